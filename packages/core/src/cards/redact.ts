import type { Intent } from '@countersign/contracts';

// Fields a rule marks as too sensitive for chat (`redact: [params.iban, context.account,
// authority.clientInstruction, justification]`). Cards render from the redacted copy only, so
// a channel cannot show what it never receives. `params.` is short for `action.params.`.

export const REDACTED = '[redacted]';

function pathOf(spec: string): string[] | undefined {
  if (spec === 'justification') return ['justification'];
  const parts = spec.split('.');
  if (parts.length < 2 || parts.some((p) => p === '')) return undefined;
  if (parts[0] === 'params') return ['action', ...parts];
  if (parts[0] === 'context' || parts[0] === 'authority') return parts;
  return undefined;
}

/** True for the paths `redactIntent` understands (policy load refuses any other). */
export function isRedactablePath(spec: string): boolean {
  return pathOf(spec) !== undefined;
}

export function redactIntent(intent: Intent, specs: string[]): Intent {
  const copy = structuredClone(intent) as unknown as Record<string, unknown>;
  for (const spec of specs) {
    const path = pathOf(spec);
    if (!path) continue;
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) {
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
    const last = path[path.length - 1]!;
    if (node && typeof node === 'object' && (node as Record<string, unknown>)[last] !== undefined) {
      (node as Record<string, unknown>)[last] = REDACTED;
    }
  }
  return copy as unknown as Intent;
}

/** Kept for callers that only have params: same rules, `params.` paths only. */
export function redactParams(params: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const intent = { action: { type: 'x.y', params } } as unknown as Intent;
  return redactIntent(intent, paths.filter((p) => p.startsWith('params.'))).action.params ?? {};
}
