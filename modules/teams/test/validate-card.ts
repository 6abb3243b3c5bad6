import * as AC from 'adaptivecards';

// Validates an Adaptive Card with the `adaptivecards` library's own parser (no DOM needed to
// parse): parse events (unknown elements, bad values), property validation (duplicate input
// ids, missing required properties) and a round trip, because the parser silently drops
// properties it does not know — a dropped property is one Teams would not honour either.

/** Host-specific properties the reference parser does not model. */
const HOST_ONLY = new Set(['msteams', '$schema']);

export function validateAdaptiveCard(json: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  const validation = card.validateProperties();
  for (const e of validation.validationEvents) problems.push(`validate: ${e.message}`);
  const roundTrip = card.toJSON(context) as Record<string, unknown> | undefined;
  if (!roundTrip) problems.push('round trip produced nothing');
  else diff(json, roundTrip, '', problems);
  return problems;
}

function diff(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      out.push(`round trip: ${path || '<root>'} lost items`);
      return;
    }
    expected.forEach((e, i) => diff(e, actual[i], `${path}[${i}]`, out));
    return;
  }
  if (expected && typeof expected === 'object') {
    const a = (actual ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) {
      if (HOST_ONLY.has(k)) continue;
      if (!(k in a)) {
        // Defaults are not serialised back (e.g. wrap: false); anything else is a dropped property.
        out.push(`round trip: ${path ? `${path}.` : ''}${k} was dropped by the parser`);
        continue;
      }
      diff(v, a[k], path ? `${path}.${k}` : k, out);
    }
    return;
  }
  if (expected !== actual) out.push(`round trip: ${path} changed from ${JSON.stringify(expected)} to ${JSON.stringify(actual)}`);
}
