import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { celList, celMap } from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import type { Actor, Intent } from '@countersign/contracts';
import type { PolicyBindings } from './cel.ts';

/**
 * The CEL variables for one evaluation, built once and shared by every rule.
 *
 * Absent optional fields are *missing keys*, never null or undefined, so `has(context.matter)`
 * means what authors expect. Numbers from the intent are JSON numbers and arrive as CEL
 * doubles (comparisons with int literals work; arithmetic needs double literals, 2.0).
 * Clock fields are ints.
 */
export function buildBindings(intent: Intent, actor: Actor, now: Date): PolicyBindings {
  return {
    action: toCel(intent.action),
    context: toCel(intent.context),
    risk: toCel(intent.risk),
    authority: toCel(intent.authority),
    onBehalfOf: intent.onBehalfOf ?? '',
    justification: intent.justification ?? '',
    actor: toCel({ kind: actor.kind, id: actor.id, roles: [...actor.roles], owner: actor.owner ?? '' }),
    now: timestampFromDate(now),
    time: celMap(
      new Map<string, CelInput>([
        ['hour', BigInt(now.getUTCHours())],
        ['minute', BigInt(now.getUTCMinutes())],
        ['weekday', BigInt(now.getUTCDay())],
        ['date', now.toISOString().slice(0, 10)],
      ]),
    ),
  };
}

// Copy a JSON-like value into CEL maps and lists, dropping undefined keys (which CEL's has()
// would otherwise report as present). Anything that is not JSON data becomes an error here
// rather than a surprise inside an expression. Converting here, once per evaluation, rather
// than handing CEL plain objects matters twice: @bufbuild/cel would re-convert a plain object
// on every read by every rule, and it recognises one by `constructor.name === "Object"`, so an
// intent key named `constructor` (or `__proto__`) made it throw a raw exception — past `&&`'s
// absorption of errors, failing every rule that read that map.
function toCel(value: unknown): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('intent contains a non-finite number');
    return value;
  }
  if (Array.isArray(value)) return celList(value.map((v) => (v === undefined ? null : toCel(v))));
  if (typeof value === 'object') {
    const entries = new Map<string, CelInput>();
    for (const [k, v] of Object.entries(value)) if (v !== undefined) entries.set(k, toCel(v));
    return celMap(entries);
  }
  throw new TypeError(`intent contains a ${typeof value}, which is not JSON data`);
}
