import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.ts';

// One way to read a YAML configuration file for the whole repo (directory, policy, policy
// tests): parse, validate with zod, and turn every complaint into a ConfigError that points at
// the offending YAML node. Operators fix config from CI output; "invalid input" without a line
// number wastes their time.

export type ConfigPath = readonly (string | number)[];

export interface ParsedYaml<T> {
  value: T;
  /** 1-based position of the node at `path` (or of its nearest existing ancestor). */
  locate(path: ConfigPath): { line: number; column: number };
  /** A ConfigError pointing at `path`, for cross-checks that zod cannot express. */
  errorAt(path: ConfigPath, reason: string): ConfigError;
  /** For a key in a mapping, the position of the key itself rather than its value. */
  errorAtKey(path: ConfigPath, reason: string): ConfigError;
}

export function parseYamlWithSchema<S extends z.ZodType>(
  text: string,
  fileName: string,
  schema: S,
): ParsedYaml<z.output<S>> {
  const lineCounter = new LineCounter();
  // prettyErrors off: we print our own `file:line:col: reason`, not yaml's multi-line snippet.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  // Warnings (e.g. an unknown tag silently read as a string) are treated as errors: a config
  // file that does not mean exactly what it says is not safe to enforce.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const { line, column } = position(problem.pos[0]);
    throw new ConfigError(fileName, line, column, `YAML: ${problem.message.split('\n')[0]}`);
  }

  const locateNode = (path: ConfigPath, preferKey: boolean) => nodeOffset(doc, path, preferKey);
  const locate = (path: ConfigPath) => position(locateNode(path, false));
  const errorAt = (path: ConfigPath, reason: string) => {
    const { line, column } = locate(path);
    return new ConfigError(fileName, line, column, reason);
  };
  const errorAtKey = (path: ConfigPath, reason: string) => {
    const { line, column } = position(locateNode(path, true));
    return new ConfigError(fileName, line, column, reason);
  };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Alias bombs and the like: still a config error at the top of the file, never a crash.
    throw new ConfigError(fileName, 1, 1, `YAML: ${(err as Error).message}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
      const keyPath = [...path, issue.keys[0]];
      throw errorAtKey(keyPath, `${formatPath(keyPath)}: unknown key (allowed keys are fixed; check the spelling)`);
    }
    throw errorAt(path, `${path.length ? `${formatPath(path)}: ` : ''}${issue.message}`);
  }
  return { value: result.data as z.output<S>, locate, errorAt, errorAtKey };
}

/** `rules[2].requirement.expiresIn`: how paths read in messages. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(root)';
}

// Walk the YAML tree along `path`, stopping at the deepest node that exists: a missing key is
// reported at the mapping that should contain it.
function nodeOffset(doc: Document, path: ConfigPath, preferKey: boolean): number {
  let node: unknown = doc.contents;
  let best = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (pair) {
        keyNode = pair.key;
        next = pair.value ?? pair.key;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (next === undefined) break;
    const last = i === path.length - 1;
    const start = rangeStart(last && preferKey && keyNode ? keyNode : next);
    if (start === undefined) break;
    best = start;
    node = next;
  }
  return best;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
