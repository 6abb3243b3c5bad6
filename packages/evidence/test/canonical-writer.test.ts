import canonicalizeModule from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotCanonical, writeCanonical } from '../src/canonical-writer.ts';

// The one-walk writer must give exactly the `canonicalize` package's text (which third parties
// and the SDK use) for every value it accepts, and refuse what has no reproducible form.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function' ? (canonicalizeModule as Canonicalize) : (canonicalizeModule as unknown as { default: Canonicalize }).default;

// Valid Unicode text (no lone surrogates), with the characters RFC 8785 sorts and escapes.
const text = fc.oneof(
  fc.fullUnicodeString({ maxLength: 12 }),
  fc.constantFrom('', '\u20ac', '\r', '\ufb33', '1', '\ud83d\ude00', '\u0080', '\u00f6', '"', '\\', '\u000f', '\u2028', 'a'),
);
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 5e-324, 1e21, 1e-7, 9007199254740992, 333333333.33333329),
);

// JSON values, plus what JavaScript callers hand in: undefined members and elements, Dates.
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.date({ noInvalidDate: true, min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }),
    fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 5 }),
    fc.dictionary(text, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 6 }),
  ),
}));

describe('writeCanonical', () => {
  it('gives the canonicalize package’s text for every value it accepts', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(writeCanonical(v)).toBe(canonicalize(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives it for values with toJSON, nested, and for the RFC 8785 examples', () => {
    const withToJson = { toJSON: () => ({ b: [1, new Date(0)], a: { toJSON: () => 'x' } }) };
    // A toJSON function with an own `call` (review s17 b, L1): still called as a method.
    const odd = Object.assign(function (this: unknown) {
      return { real: 1 };
    }, { call: () => 'fake' });
    const cases: unknown[] = [
      { a: { toJSON: odd } },
      withToJson,
      { z: withToJson, y: [withToJson] },
      Buffer.from('hi'),
      JSON.parse('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "literals": [null, true, false]}'),
      { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\ud83d\ude00': 5, '\u0080': 6, '\u00f6': 7 },
    ];
    for (const c of cases) expect(writeCanonical(c)).toBe(canonicalize(c));
  });

  it('has no text for undefined, or a top-level toJSON() giving nothing', () => {
    expect(writeCanonical(undefined)).toBeUndefined();
    expect(writeCanonical({ toJSON: () => undefined })).toBeUndefined();
  });

  it('refuses what has no reproducible form, naming where', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    const refused: Array<[unknown, string]> = [
      [{ a: { b: 1n } }, 'BigInt at $.a.b'],
      [{ a: [1, Number.NaN] }, 'non-finite number at $.a[1]'],
      [[Infinity], 'non-finite number at $[0]'],
      [{ f: () => 1 }, 'function at $.f'],
      [{ s: Symbol('x') }, 'symbol at $.s'],
      [[Symbol('x')], 'symbol at $[0]'],
      [{ a: 'ok', b: '\ud800' }, 'lone surrogate in string at $.b'],
      [{ a: { '\udc00': 1 } }, 'lone surrogate in key at $.a'],
      [cycle, 'cycle at $.self.back'],
      // The package wrote "[1,2]" for [1, <hole>, 2] and "[,1]" for [<hole>, 1].
      // eslint-disable-next-line no-sparse-arrays
      [{ a: [1, , 2] }, 'hole in array at $.a[1]'],
      // ... and the bare word undefined for a nested toJSON() that gives nothing.
      [{ a: { toJSON: () => undefined } }, 'toJSON() gave no JSON value at $.a'],
      [BigInt(1), 'BigInt at $'],
    ];
    for (const [input, message] of refused) {
      let err: unknown;
      try {
        writeCanonical(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotCanonical);
      expect((err as Error).message).toBe(message);
    }
  });

  it('the same value twice, not a cycle (siblings may share an object)', () => {
    const shared = { x: 1 };
    expect(writeCanonical({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });
});
