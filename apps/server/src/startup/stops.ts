/**
 * What startup has started, to be stopped in reverse order: the last thing started (the HTTP
 * app, the modules' workers) stops first, the database pool last.
 */
export class Stops {
  private readonly steps: (() => Promise<unknown>)[] = [];

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async stopAll(): Promise<void> {
    for (const step of this.steps.reverse()) await step();
  }
}
