import { describe, expect, it } from 'vitest';
import { IntentSchema } from '@countersign/contracts';
import { intentHash as serverIntentHash } from '@countersign/evidence';
import { canonicalJson, intentHash, normaliseIntent, type IntentInput } from '../packages/sdk/src/index.ts';

// A release token binds the hash of the intent as the server stored it; a downstream service
// recomputes it with the SDK from the intent the agent sent. The normalisation is one function
// (the SDK's, which the server's IntentSchema applies before validating): these cases hold the
// schema to storing exactly what that function returns, so nothing the schema could gain (a
// default, a trim) can make the two hashes drift apart.
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
  partialSections: { action: { type: 'environment.delete' }, context: { environment: 'prod' }, authority: { changeTicket: 'CHG-9' } },
  unicode: { action: { type: 'data.export', resource: 'Ünïcødé 🚀 \u00e9', params: { 'ключ': 'значение', '1': 1, a: 1e21, b: 0.1 } } },
  keyOrder: { risk: { urgency: 'low', class: 'read' }, action: { summary: 's', type: 'db.query', resource: 'r' } },
  undefinedMembers: { action: { type: 'db.query', resource: undefined, params: { keep: 1, drop: undefined } }, justification: undefined },
};

describe('one intent normalisation for server and SDK', () => {
  for (const [name, intent] of Object.entries(CASES)) {
    it(name, () => {
      const stored = IntentSchema.parse(intent);
      // What the server stores is what the SDK's rule makes of the intent, to the letter.
      expect(JSON.parse(JSON.stringify(stored))).toEqual(JSON.parse(JSON.stringify(normaliseIntent(intent))));
      expect(canonicalJson(stored)).toBe(canonicalJson(normaliseIntent(intent)));
      expect(intentHash(intent)).toBe(serverIntentHash(stored));
      // Normalising twice changes nothing: the server may hash what it stored.
      expect(intentHash(stored as IntentInput)).toBe(intentHash(intent));
    });
  }

  it('a Date in params hashes as the ISO string the wire carries', () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    const sent = JSON.parse(JSON.stringify({ action: { type: 'db.query', params: { at } } })) as IntentInput;
    expect(intentHash({ action: { type: 'db.query', params: { at } } })).toBe(serverIntentHash(IntentSchema.parse(sent)));
  });

  it('leaves what is not an intent for the schema to refuse by name', () => {
    expect(IntentSchema.safeParse({ action: { type: 'db.query' }, context: 'prod' }).error?.issues[0]?.path).toEqual(['context']);
    expect(IntentSchema.safeParse({ action: 'delete' }).error?.issues[0]?.path).toEqual(['action']);
    expect(IntentSchema.safeParse({}).error?.issues[0]?.path).toEqual(['action']);
    expect(IntentSchema.safeParse(null).success).toBe(false);
    expect(IntentSchema.safeParse({ action: { type: 'db.query', resource: '   ' } }).error?.issues[0]?.path).toEqual(['action', 'resource']);
    expect(IntentSchema.safeParse({ action: { type: 'db.query' }, surprise: 1 }).error?.issues[0]?.code).toBe('unrecognized_keys');
  });

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
    expect(() => intentHash({ action: { type: 'db.query', params: cyclic } })).toThrow(/cycle/);
  });
});
