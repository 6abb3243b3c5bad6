import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lossyNumberIssue } from '../src/http/body-numbers.ts';

// A number literal must come back as itself from the double it is read into, or the body is
// refused naming the field: otherwise the approver sees (and the release token binds) another
// number than the agent sent.

describe('numbers a double cannot carry exactly', () => {
  it.each([
    ['{"action":{"params":{"accountId":9007199254740993}}}', 'action.params.accountId', '9007199254740992'],
    ['{"a":[1,2,{"b":[0,-9007199254740995]}]}', 'a.2.b.1', '-9007199254740996'],
    ['{"tiny":1e-400}', 'tiny', '0'],
    ['{"huge":1e400}', 'huge', 'Infinity'],
    ['{"x":0.1234567890123456789}', 'x', '0.12345678901234568'],
    ['{"we\\"ird.key":{"":123456789012345678901}}', 'we"ird.key.', '123456789012345680000'],
    ['12345678901234567890', '(body)', '12345678901234567000'],
  ])('%s → %s', (text, field, readAs) => {
    const issue = lossyNumberIssue(text);
    expect(issue?.field).toBe(field);
    expect(issue?.message).toContain(`would be read as ${readAs}`);
  });

  it.each([
    '{"a":9007199254740991,"b":-9007199254740991}',
    '{"a":0.1,"b":1.50,"c":-0,"d":0.0,"e":1e21,"f":5e-324,"g":1.7976931348623157e308,"h":2.5E-3}',
    '{"s":"9007199254740993 in a string","t":"1e-400","u":"1234567890.1234567890"}',
    '{"ms":1733443200000,"amount":1234567.25,"n":[1,2,3]}',
    '{"0.000000000000000000001":true}',
  ])('accepts %s', (text) => {
    expect(lossyNumberIssue(text)).toBeNull();
  });

  it('every double JSON.stringify writes passes; an integer past 2^53 that a double rounds is refused', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(lossyNumberIssue(JSON.stringify({ d: [d] }))).toBeNull();
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 80n }), (n) => {
        fc.pre(BigInt(Number(n)) !== n);
        expect(lossyNumberIssue(`{"n":${n}}`)?.field).toBe('n');
      }),
      { numRuns: 500 },
    );
  });
});
