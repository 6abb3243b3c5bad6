import fc from 'fast-check';
import { IntentSchema } from '@countersign/contracts';
import type { Actor, Intent } from '@countersign/contracts';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/index.ts';
import { buildBindings } from '../src/bindings.ts';
import { candidateRules } from '../src/rule-index.ts';
import { MONDAY_10AM, policy } from './helpers.ts';

// The guard index must never change a verdict: for random policies and intents, evaluate()
// with the index returns exactly what it returns running every rule's CEL ({ index: false }).
// Small alphabets, so guards match often, miss often, and meet missing and non-string fields.

const TYPES = ['db.query', 'db.drop', 'payment.send'];
const RESOURCES = ['r1', 'r2'];
const ENVIRONMENTS = ['prod', 'dev'];
const KINDS = ['s1', 's2'];
const ACTORS = ['bot', 'alice'];

/** Terms `path == "literal"` (either order) that can become guards. */
const guardTerm = fc.oneof(
  ...(
    [
      ['action.type', TYPES],
      ['action.resource', RESOURCES],
      ['context.environment', ENVIRONMENTS],
      // params and attributes may hold numbers, nulls, maps, lists, or nothing at all.
      ['action.params.kind', KINDS],
      ['context.attributes.tier', KINDS],
      ['actor.id', ACTORS],
      ['onBehalfOf', ['erin', '']],
      ['time.date', ['2026-01-05', '2026-01-06']],
      // A timestamp message is not a map: never walked, always evaluated.
      ['now.seconds', ['1']],
    ] as const
  ).map(([path, literals]) =>
    fc.tuple(fc.constantFrom(...literals), fc.boolean()).map(([literal, flipped]) => (flipped ? `"${literal}" == ${path}` : `${path} == "${literal}"`)),
  ),
);

/** Other conditions: true, false, errors (missing keys, bad overloads, non-booleans), ||, !, in. */
const otherTerm = fc.constantFrom(
  'true',
  'false',
  'has(action.params.n)',
  'action.params.n > 3',
  'action.params.missing == "x"',
  'action.params.kind',
  'action.params.kind.startsWith("s")',
  'action.params.kind != "s1"',
  '"deployer" in actor.roles',
  'action.type in ["db.query", "payment.send"]',
  '(action.resource == "r1" || context.environment == "dev")',
  '!(context.environment == "prod")',
  '!(action.type == "db.drop")',
  '[1, 2].exists(x, x == action.params.n)',
  'action.params.n / 0.0 > 1.0',
  'int(action.params.n) / 0 == 1',
  'context.attributes.tier == 1',
  'size(action.params) > 1',
  'has(context.attributes.tier) ? context.attributes.tier == "s1" : true',
);

/** A condition: a random && tree of terms (mostly), sometimes under || or !. */
const condition: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 2, arbitrary: guardTerm }, { weight: 2, arbitrary: otherTerm }), { minLength: 1, maxLength: 4 })
  .chain((terms) => fc.tuple(fc.constant(terms), fc.array(fc.boolean(), { minLength: terms.length, maxLength: terms.length })))
  .map(([terms, groupings]) => {
    // Nest the && randomly: (a && b) && c, a && (b && c)…
    let expr = terms[0]!;
    terms.slice(1).forEach((term, i) => {
      expr = groupings[i] ? `(${expr}) && ${term}` : `${term} && (${expr})`;
    });
    return expr;
  })
  .chain((expr) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(expr) },
      { weight: 1, arbitrary: otherTerm.map((other) => `(${expr}) || ${other}`) },
      { weight: 1, arbitrary: fc.constant(`!(${expr})`) },
    ),
  );

const rule = fc.record({
  when: condition,
  outcome: fc.constantFrom('approve', 'escalate', 'refuse'),
  role: fc.constantFrom('sre', 'security', 'finance'),
  count: fc.integer({ min: 1, max: 2 }),
  minutes: fc.integer({ min: 5, max: 90 }),
  override: fc.subarray(['cto', 'dpo']),
});

type RuleSpec = typeof rule extends fc.Arbitrary<infer T> ? T : never;

function policyYaml(rules: RuleSpec[]): string {
  return rules
    .map((r, i) => {
      const tail =
        r.outcome === 'escalate'
          ? `\n    requirement:\n      approvers: [{ role: ${r.role}, count: ${r.count} }]\n      expiresIn: ${r.minutes}m\n      channels: { slack: ["#c${i % 3}"], reminders: [${Math.ceil(r.minutes / 2)}m] }`
          : r.outcome === 'refuse' && r.override.length > 0
            ? `\n    override: { roles: [${r.override.join(', ')}] }`
            : '';
      return `  - id: rule-${i}\n    when: '${r.when}'\n    outcome: ${r.outcome}\n    reason: reason ${i}${tail}\n`;
    })
    .join('');
}

/** A free-record value: what a guard on params/attributes may meet. */
const freeValue = fc.oneof(
  fc.constantFrom(...KINDS),
  fc.constant('other'),
  fc.integer({ min: -2, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(null),
  fc.boolean(),
  fc.constant({ kind: 's1' }),
  fc.constant(['s1']),
);

const intentArb: fc.Arbitrary<Intent> = fc
  .record(
    {
      type: fc.constantFrom(...TYPES),
      resource: fc.constantFrom(...RESOURCES, 'r3'),
      environment: fc.constantFrom(...ENVIRONMENTS, 'staging'),
      kind: freeValue,
      n: freeValue,
      tier: freeValue,
      onBehalfOf: fc.constantFrom('erin', 'frank'),
    },
    // Any field may be absent.
    { requiredKeys: ['type'] },
  )
  .map((f) =>
    IntentSchema.parse({
      action: {
        type: f.type,
        ...(f.resource !== undefined ? { resource: f.resource } : {}),
        params: { ...('kind' in f ? { kind: f.kind } : {}), ...('n' in f ? { n: f.n } : {}) },
      },
      ...(f.onBehalfOf !== undefined ? { onBehalfOf: f.onBehalfOf } : {}),
      context: { ...(f.environment !== undefined ? { environment: f.environment } : {}), attributes: 'tier' in f ? { tier: f.tier } : {} },
    }),
  );

const actorArb: fc.Arbitrary<Actor> = fc.record({
  kind: fc.constantFrom('agent' as const, 'person' as const),
  id: fc.constantFrom(...ACTORS),
  roles: fc.subarray(['deployer', 'sre']),
  owner: fc.constantFrom('erin', null),
});

const nowArb = fc.constantFrom(MONDAY_10AM, new Date('2026-01-06T23:59:00Z'));

describe('guard index: indexed evaluation returns what evaluating every rule returns', () => {
  it('for random policies and intents, the verdicts are equal', () => {
    let skipped = 0;
    let cases = 0;
    fc.assert(
      fc.property(
        fc.array(rule, { minLength: 1, maxLength: 10 }),
        fc.array(fc.tuple(intentArb, actorArb, nowArb), { minLength: 1, maxLength: 6 }),
        (rules, inputs) => {
          const p = policy(policyYaml(rules));
          for (const [intent, actor, now] of inputs) {
            const input = { intent, actor, now };
            expect(evaluate(p, input)).toEqual(evaluate(p, input, { index: false }));
            cases++;
            const bindings = buildBindings(intent, actor, now) as unknown as Record<string, unknown>;
            if (candidateRules(p.index, bindings).length < p.rules.length) skipped++;
          }
        },
      ),
      { numRuns: 400 },
    );
    // The property is only worth something if the index did skip rules, in many cases.
    expect(skipped).toBeGreaterThan(cases / 5);
  });
});
