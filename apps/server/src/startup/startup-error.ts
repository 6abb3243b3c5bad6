/**
 * The service cannot start for a reason the operator can fix, said in one message that names
 * what to set or check (never a secret's value): printed without a stack, like a SettingsError.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The first line of a driver's message (Prisma's run on with advice and a wasm stack). */
export function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message;
}

/** A listen that failed because the port is taken, said with the variables that choose ports. */
export function portInUse(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code !== 'EADDRINUSE') return undefined;
  return `port ${e.port ?? '?'} is already in use (another countersign still running?): stop it, or choose another with PORT (the API) or COUNTERSIGN_METRICS_PORT (/metrics)`;
}
