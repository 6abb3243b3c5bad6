import { IntentSchema, RequirementSchema } from '@countersign/contracts';
import type { ActionRecord, DirectoryView } from '@countersign/core';

// An intent written to hide what matters on an approval card: 50 params, twelve of them
// numeric-looking keys ("0"…"11", which JavaScript always enumerates first), the money fields
// last, a long value, and agent text shaped like the card's own markup. Shared by the card
// model's test and both channels' card builders' tests.

export const HOSTILE_TEXT = ['*APPROVED*', '# Heading', '<!channel>', '[link](http://evil)'] as const;
export const LONG_VALUE = 'x'.repeat(1434);
export const INTENT_HASH = '3f9a1c0b7e22d4c5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9';

export function hostileParams(): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (let i = 0; i < 12; i += 1) params[String(i)] = 'ok';
  for (let i = 0; i < 34; i += 1) params[`filler${i}`] = `f${i}`;
  params.note = LONG_VALUE;
  params.amount = 250000;
  params.payee = 'Mallory Ltd';
  params.iban = 'GB33BUKB20201555555555';
  return params;
}

export function hostileAction(overrides: { feature?: string[]; redact?: string[] } = {}): ActionRecord {
  const intent = IntentSchema.parse({
    action: { type: 'payment.send', resource: 'supplier/acme', params: hostileParams(), summary: `Pay ACME Corp invoice ${HOSTILE_TEXT.join(' ')}` },
    context: { environment: 'production' },
    justification: `routine ${HOSTILE_TEXT.join(' ')}`,
  });
  return {
    id: 'act_hostile', status: 'pending', outcome: 'escalate', actorId: 'pay-bot', actorKind: 'agent', ownerId: null, onBehalfOf: null,
    apiKeyId: 'key_x', intent, intentHash: INTENT_HASH, actionType: 'payment.send', policyDigest: 'p', ruleIds: ['pay'], reasons: ['payments need finance'],
    requirement: RequirementSchema.parse({
      groups: [{ role: 'finance', count: 1 }],
      expiresInSeconds: 600,
      feature: overrides.feature ?? ['params.amount', 'params.payee', 'params.iban'],
      redact: overrides.redact ?? [],
    }),
    overrideRoles: [], expiresAt: new Date('2026-05-01T10:30:00.000Z'), createdAt: new Date('2026-05-01T10:00:00.000Z'), decidedAt: null, decidedBy: null,
    decisionReason: null, overriddenBy: null, overrideReason: null, idempotencyKey: null, requestHash: null,
  };
}

export const EMPTY_DIRECTORY: DirectoryView = { digest: 'd', person: () => undefined, principal: () => undefined, actorOf: () => undefined };
