import type { SealedArtifact } from '@countersign/contracts';

/** The typed event an artifact seals (its canonical body's `event`). */
export function eventOf(artifact: SealedArtifact | undefined): Record<string, unknown> {
  if (!artifact) throw new Error('no artifact');
  return JSON.parse(artifact.canonical).event;
}

/** The events sealed for one action, oldest first. */
export function eventsFor(artifacts: readonly SealedArtifact[], actionId: string): Record<string, unknown>[] {
  return artifacts.filter((a) => a.actionId === actionId).map(eventOf);
}
