import { ArtifactEventSchema, ArtifactEventSchemaUncompiled, safeParseArtifactEvent } from '@countersign/contracts/artifact';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/index.ts';
import { eventAt, voteEvent } from './factories.ts';

// Every record of a verification is parsed by the compiled artifact schema (zod's generated fast
// path). Its verdict is evidence: it must accept exactly what zod's ordinary parser accepts,
// return the same value, and report the same first problem, for events as sealed and for
// anything an export could be edited to hold.

const hash = sha256Hex('x');
const valid: unknown[] = [
  eventAt(0),
  voteEvent(1),
  voteEvent(2, { via: { channel: 'slack', account: { teamId: 'T1', userId: 'U1' } } } as never),
  eventAt(2),
  eventAt(3),
  { kind: 'action.overridden', actionId: 'act_1', intentHash: hash, actionType: 't', personId: 'p', rolesAtOverride: ['r'], reason: 'why', previousStatus: 'refused', status: 'pending', reviewRequired: true, requirement: { any: 1 }, expiresAt: '2030-01-01T00:00:00.000Z' },
  { kind: 'action.overridden', actionId: 'act_1', intentHash: hash, actionType: 't', personId: 'p', rolesAtOverride: [], reason: 'why', previousStatus: 'refused', status: 'approved', reviewRequired: true },
  { kind: 'action.executed', actionId: 'act_1', intentHash: hash, actionType: 't', result: 'failed', method: 'POST', destination: 'https://x.example', idempotencyKey: 'k', responseStatus: null, attempts: 3, error: 'timeout' },
  { kind: 'release.redeemed', actionId: 'act_1', intentHash: hash, actionType: 't', audience: 'svc', redeemedBy: 'agt', tokenId: 'j' },
  { kind: 'key.created', keyId: 'k', principalId: 'p', principalKind: 'agent', canDelegate: true, delegateFor: ['role:x'], label: null },
  { kind: 'key.revoked', keyId: 'k', principalId: 'p' },
  { kind: 'signing-key.rotated', previousKeyId: 'a', newKeyId: 'b', previousKeyLastSeq: 7 },
];

const firstIssue = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string; code: string }> } }) =>
  r.success ? null : { path: r.error!.issues[0]!.path.map(String), code: r.error!.issues[0]!.code, message: r.error!.issues[0]!.message };

function agree(value: unknown): void {
  const compiled = ArtifactEventSchema.safeParse(value);
  const runtime = ArtifactEventSchemaUncompiled.safeParse(value);
  expect(compiled.success, JSON.stringify(value)).toBe(runtime.success);
  if (compiled.success && runtime.success) expect(compiled.data).toEqual(runtime.data);
  expect(firstIssue(compiled)).toEqual(firstIssue(runtime));
}

/** One edit of a valid event: a member removed, added, or replaced by any JSON value. */
const edited = fc
  .tuple(fc.constantFrom(...valid), fc.nat(), fc.oneof(fc.constant('remove'), fc.constant('add'), fc.constant('replace'), fc.constant('replace-nested')), fc.jsonValue())
  .map(([event, pick, how, json]) => {
    const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    const keys = Object.keys(copy);
    const key = keys[pick % keys.length]!;
    if (how === 'remove') delete copy[key];
    else if (how === 'add') copy[`extra${pick % 3}`] = json;
    else if (how === 'replace') copy[key] = json;
    else {
      const inner = copy[key];
      if (inner && typeof inner === 'object' && !Array.isArray(inner)) (inner as Record<string, unknown>)[Object.keys(inner)[0] ?? 'x'] = json;
      else if (Array.isArray(inner)) inner.push(json);
      else copy[key] = [json];
    }
    return copy;
  });

describe('the compiled artifact event schema', () => {
  it('accepts every kind as sealed, with the value the ordinary parser gives', () => {
    for (const event of valid) {
      expect(ArtifactEventSchema.safeParse(event).success, JSON.stringify(event)).toBe(true);
      agree(event);
    }
  });

  it('agrees with the ordinary parser on edited events and on any JSON at all', () => {
    fc.assert(fc.property(edited, (value) => agree(value)), { numRuns: 3_000, seed: 20261205 });
    fc.assert(fc.property(fc.jsonValue(), (value) => agree(value)), { numRuns: 1_000, seed: 20261205 });
  });

  it('says what is wrong in English, whatever else the thread loaded', () => {
    const r = safeParseArtifactEvent({ ...(eventAt(1) as object), decision: 'maybe' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/^Invalid option: expected one of "approve"\|"deny"$/);
  });
});
