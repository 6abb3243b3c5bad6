import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKeyIssue } from '../src/http/body-duplicates.ts';

// A member named twice in one object: JSON.parse keeps the last, other readers the first, so
// the body is refused naming the member (review s14 b).

const issueOf = (text: string) => duplicateKeyIssue(text, JSON.parse(text));

describe('members named twice in one object', () => {
  it.each([
    ['{"action":{"type":"environment.delete","resource":"env/prod-eu-1","type":"db.query"}}', 'action.type'],
    ['{"risk":{"class":"destructive","class":"read"}}', 'risk.class'],
    ['{"a":1,"a":1}', 'a'],
    ['{"a":[{"x":1},{"y":2,"y":3}]}', 'a.1.y'],
    // The same member however it is spelt: an escape is the character it stands for.
    ['{"type":"x","\\u0074ype":"y"}', 'type'],
    ['{"we\\"ird":{"":1,"":2}}', 'we"ird.'],
  ])('%s → %s', (text, field) => {
    const issue = issueOf(text);
    expect(issue?.field).toBe(field);
    expect(issue?.message).toMatch(/appears more than once in its object/);
  });

  it.each([
    '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}',
    '{"s":"a:b:c","t":"\\":\\"","u":{"k:":":v"}}',
    '{}',
    '[]',
    '"just:a:string"',
    '{"A":1,"b":{"a":2}}',
  ])('accepts %s (same name in different objects, colons inside strings)', (text) => {
    expect(issueOf(text)).toBeNull();
  });

  it.each([
    ['{"amount":5,"Amount":50000}', 'Amount', 'amount'],
    ['{"action":{"params":{"to":"a","TO":"b"}}}', 'action.params.TO', 'to'],
    ['{"x":[{"id":1,"ID":2}]}', 'x.0.ID', 'id'],
    // Simple case folding: the Kelvin sign is k, the long s is s.
    ['{"k":1,"\u212a":2}', '\u212a', 'k'],
    ['{"class":1,"cla\u017fs":2}', 'cla\u017fs', 'class'],
  ])('%s: names differing only in letter case → %s', (text, field, first) => {
    const issue = issueOf(text);
    expect(issue?.field).toBe(JSON.parse(`"${field}"`));
    expect(issue?.message).toContain(`the members "${first}" and`);
    expect(issue?.message).toMatch(/differ only in letter case/);
  });

  it('never refuses what JSON.stringify writes (no duplicates possible), whatever the keys and strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!hasCaseFoldedPair(value));
        expect(duplicateKeyIssue(text, JSON.parse(text))).toBeNull();
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds a duplicate added anywhere in a generated object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.jsonValue(), (object, extra) => {
        const key = Object.keys(object)[0]!;
        const whole = JSON.stringify({ outer: object });
        const text = `${whole.slice(0, -2)},${JSON.stringify(key)}:${JSON.stringify(extra)}}}`;
        expect(issueOf(text)?.field).toBe(`outer.${key}`);
      }),
      { numRuns: 1_000 },
    );
  });
});

function hasCaseFoldedPair(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasCaseFoldedPair);
  const keys = Object.keys(value);
  const folded = new Set(keys.map((k) => k.toUpperCase().toLowerCase()));
  return folded.size !== keys.length || Object.values(value).some(hasCaseFoldedPair);
}
