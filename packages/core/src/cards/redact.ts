/**
 * Replaces the values at the rule's `redact` paths ("params.iban", "params.card.number") so that
 * cards never show them. Paths not under `params.` are ignored here: cards show params only.
 */
export function redactParams(params: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const copy = structuredClone(params);
  for (const path of paths) {
    const parts = path.split('.');
    if (parts[0] !== 'params' || parts.length < 2) continue;
    let node: unknown = copy;
    for (let i = 1; i < parts.length - 1; i++) {
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[parts[i]!] : undefined;
    }
    const last = parts[parts.length - 1]!;
    if (node && typeof node === 'object' && last in (node as Record<string, unknown>)) {
      (node as Record<string, unknown>)[last] = '[redacted]';
    }
  }
  return copy;
}
