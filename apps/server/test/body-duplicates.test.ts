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
    '{"A":1,"a":2}',
  ])('accepts %s (same name in different objects, colons inside strings, letter case)', (text) => {
    expect(issueOf(text)).toBeNull();
  });

  it('never refuses what JSON.stringify writes (no duplicates possible), whatever the keys and strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
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
