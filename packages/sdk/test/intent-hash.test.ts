import { describe, expect, it } from 'vitest';
import { IntentSchema, type IntentInput } from '@countersign/contracts';
import { intentHash as serverIntentHash } from '@countersign/evidence';
import { canonicalJson, intentHash, normaliseIntent } from '../src/index.ts';

// The SDK cannot import the server's schema (it is published alone), so it re-implements the
// normalisation. These cases pin it to the server's: if the intent schema gains a default or a
// trim, this fails until the SDK follows.
const CASES: Record<string, IntentInput> = {
  minimal: { action: { type: 'db.query' } },
  full: {
    action: { type: 'payment.send', resource: ' acct/42 ', params: { amount: 12_000.5, currency: 'EUR', nested: { a: [1, 2, { b: null }] } }, summary: '  pay  ' },
    onBehalfOf: ' alice ',
    context: { environment: ' production ', account: 'acme', jurisdiction: 'EU', matter: 'M-1', attributes: { pii: true } },
    risk: { class: ' financial ', urgency: 'high' },
    authority: { changeTicket: ' CHG-1 ', clientInstruction: 'x', regulation: 'PSD2', reference: 'r', attributes: { signedBy: 'cfo' } },
    justification: '  quarterly supplier run  ',
    callbackUrl: 'https://hooks.example.com/countersign?x=1',
  },
  emptySections: { action: { type: 'environment.delete', params: {} }, context: {}, risk: {}, authority: {} },
  unicode: { action: { type: 'data.export', resource: 'Ünïcødé 🚀 \u00e9', params: { 'ключ': 'значение', '1': 1, a: 1e21, b: 0.1 } } },
  keyOrder: { risk: { urgency: 'low', class: 'read' }, action: { summary: 's', type: 'db.query', resource: 'r' } },
};

describe('intentHash matches the server', () => {
  for (const [name, intent] of Object.entries(CASES)) {
    it(name, () => {
      const server = IntentSchema.parse(intent);
      expect(normaliseIntent(intent)).toEqual(JSON.parse(JSON.stringify(server)));
      expect(intentHash(intent)).toBe(serverIntentHash(server));
    });
  }

  it('a changed amount, target or environment changes the hash', () => {
    const base = CASES.full!;
    const h = intentHash(base);
    expect(intentHash({ ...base, action: { ...base.action, params: { ...base.action.params, amount: 12_000.51 } } })).not.toBe(h);
    expect(intentHash({ ...base, action: { ...base.action, resource: 'acct/43' } })).not.toBe(h);
    expect(intentHash({ ...base, context: { ...base.context, environment: 'staging' } })).not.toBe(h);
  });

  it('refuses values JSON cannot carry rather than hashing broken text', () => {
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});
