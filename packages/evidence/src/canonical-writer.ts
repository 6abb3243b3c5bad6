// RFC 8785 (JCS) canonical JSON in one walk: the checks that keep evidence reproducible (no
// BigInt, NaN, functions, lone surrogates, cycles) and the serialisation together. Every
// decision canonicalises twice (the intent for its hash, the artifact's body), and the walk
// that checked first and a second one that serialised (the `canonicalize` package) were a
// twentieth of the gate's CPU; so were the path strings the check built for every member
// whether or not anything was wrong. Here the path is a stack, read only when refusing.
//
// The output is byte for byte the `canonicalize` package's for everything the check accepts
// (a property test compares them). Where that package emitted text no JSON reader accepts
// (an array with holes; a nested toJSON() that returns nothing) this refuses instead.

/** Why a value has no canonical form; `at` is a JSONPath-like location ($, $.a, $.a[0]). */
export class NotCanonical extends Error {
  constructor(
    readonly detail: string,
    readonly at: string,
  ) {
    super(`${detail} at ${at}`);
    this.name = 'NotCanonical';
  }
}

// In a /u regex a valid surrogate pair is one code point, so \p{Cs} only matches lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

class Refused {
  constructor(readonly detail: string) {}
}

/** The canonical text of `value`, or undefined when it has none (undefined, a toJSON() giving nothing). */
export function writeCanonical(value: unknown): string | undefined {
  const path: Array<string | number> = [];
  try {
    return write(value, path, new Set());
  } catch (err) {
    if (err instanceof Refused) throw new NotCanonical(err.detail, pathText(path));
    throw err;
  }
}

function pathText(path: ReadonlyArray<string | number>): string {
  let text = '$';
  for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return text;
}

function write(value: unknown, path: Array<string | number>, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new Refused('lone surrogate in string');
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Refused('non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'bigint':
      throw new Refused('BigInt');
    case 'function':
    case 'symbol':
      throw new Refused(typeof value);
    default:
      break;
  }
  if (value === null) return 'null';
  const object = value as Record<string, unknown>;
  const toJSON = object.toJSON;
  if (typeof toJSON === 'function') {
    // As a method call (`object.toJSON()`, what the package does), whatever `call` says.
    const text = write(Reflect.apply(toJSON, object, []), path, ancestors);
    // At the top this is "no JSON form" (the caller says so); inside, the package wrote the
    // bare word `undefined` into the text.
    if (text === undefined && path.length > 0) throw new Refused('toJSON() gave no JSON value');
    return text;
  }
  if (ancestors.has(object)) throw new Refused('cycle');
  ancestors.add(object);
  let out: string;
  if (Array.isArray(object)) {
    out = '[';
    for (let i = 0; i < object.length; i++) {
      path.push(i);
      if (!(i in object)) throw new Refused('hole in array');
      const item: unknown = object[i];
      // undefined in an array is null, as JSON.stringify writes it.
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : write(item, path, ancestors));
      path.pop();
    }
    out += ']';
  } else {
    // Object.keys' order sorted by UTF-16 code units: what Array.prototype.sort compares.
    const keys = Object.keys(object).sort();
    out = '{';
    let first = true;
    for (const key of keys) {
      if (LONE_SURROGATE.test(key)) throw new Refused('lone surrogate in key');
      const item = object[key];
      // Undefined members are left out, as JSON.stringify leaves them out.
      if (item === undefined) continue;
      path.push(key);
      out += (first ? '' : ',') + JSON.stringify(key) + ':' + write(item, path, ancestors);
      path.pop();
      first = false;
    }
    out += '}';
  }
  ancestors.delete(object);
  return out;
}
