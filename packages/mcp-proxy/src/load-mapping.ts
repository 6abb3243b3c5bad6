import fs from 'node:fs';
import { ConfigError, parseYamlWithSchema, type ConfigPath } from '@countersign/directory';
import { ConditionError } from '@countersign/policy';
import { compileMappingExpression, type MappingExpression } from './expression.ts';
import { MappingFileSchema, type MappingFile, type ToolMappingEntry } from './mapping-file.ts';

/** One tool's compiled mapping: how a call becomes an intent (or that it passes ungated). */
export interface ToolMapping {
  /** The pattern as written, and the line it is on (for messages). */
  match: string;
  line: number;
  passthrough: boolean;
  annotate: string | undefined;
  actionType: string | undefined;
  risk: ToolMappingEntry['risk'];
  /** Compiled CEL by the intent field it fills: "action.resource", "context.attributes.region", … */
  fields: ReadonlyArray<{ path: readonly string[]; evaluate: MappingExpression }>;
}

export interface Mapping {
  fileName: string;
  gate: MappingFile['gate'];
  tools: readonly ToolMapping[];
  /** The first mapping whose pattern matches the tool name, in file order; undefined → refuse. */
  find(toolName: string): ToolMapping | undefined;
}

export function loadMappingFile(file: string): Mapping {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, 1, 1, `cannot read the mapping file: ${(err as Error).message}`);
  }
  return loadMapping(text, file);
}

/** Parse, validate and compile a mapping. Throws ConfigError (`file:line:column: reason`). */
export function loadMapping(text: string, fileName: string): Mapping {
  const parsed = parseYamlWithSchema(text, fileName, MappingFileSchema);
  const tools = parsed.value.tools.map((entry, i): ToolMapping => {
    const fields: { path: string[]; evaluate: MappingExpression }[] = [];
    const compile = (yamlPath: ConfigPath, intentPath: string[], source: string | undefined) => {
      if (source === undefined) return;
      try {
        fields.push({ path: intentPath, evaluate: compileMappingExpression(source) });
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err;
        const where = err.offset === undefined ? '' : ` (at character ${err.offset + 1} of the expression)`;
        throw parsed.errorAt(['tools', i, ...yamlPath], `tools[${i}] (${entry.match}): ${err.message}${where}`);
      }
    };
    compile(['action', 'resource'], ['action', 'resource'], entry.action?.resource);
    compile(['action', 'summary'], ['action', 'summary'], entry.action?.summary);
    for (const section of ['context', 'authority'] as const) {
      const values = entry[section] ?? {};
      for (const [key, source] of Object.entries(values)) {
        if (key === 'attributes') continue;
        compile([section, key], [section, key], source as string);
      }
      for (const [key, source] of Object.entries(values.attributes ?? {})) compile([section, 'attributes', key], [section, 'attributes', key], source);
    }
    compile(['justification'], ['justification'], entry.justification);
    return Object.freeze({
      match: entry.match,
      line: parsed.locate(['tools', i]).line,
      passthrough: entry.passthrough === true,
      annotate: entry.annotate,
      actionType: entry.action?.type,
      risk: entry.risk,
      fields: Object.freeze(fields),
    });
  });
  const matchers = tools.map((tool) => ({ tool, test: globMatcher(tool.match) }));
  return Object.freeze({
    fileName,
    gate: parsed.value.gate,
    tools: Object.freeze(tools),
    find: (toolName: string) => matchers.find((m) => m.test(toolName))?.tool,
  });
}

/** Captures, so that split() keeps each terminator as its own part (at the odd indices). */
const LINE_TERMINATOR = /([\n\r\u2028\u2029])/;
const STAR = 42; // '*'
const QUESTION = 63; // '?'

/**
 * `*` is any run of characters, `?` one character; everything else is literal. "Character" is a
 * UTF-16 code unit other than a line terminator (\n, \r, \u2028, \u2029), as the `.` of the
 * RegExp this used to build; the name must match whole.
 *
 * Not a RegExp: `.*` twice or more backtracks polynomially, and the name comes from the MCP
 * client with no length limit (`*_*_*_delete` on 2,000 characters took 1.8 s, ×8 per doubling,
 * blocking every session's event loop). This is O(name × pattern) at worst.
 */
export function globMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  // Wildcards never match a line terminator, so each one in the name can only be matched by the
  // same literal character in the pattern, in order: splitting both at line terminators (kept as
  // their own parts) gives segments that must pair up one to one, with the terminators equal.
  // Inside a segment there is none, so the plain wildcard algorithm below is exact there.
  const parts = pattern.split(LINE_TERMINATOR);
  if (parts.length === 1) return (name) => !LINE_TERMINATOR.test(name) && wildcardMatch(pattern, name);
  return (name) => {
    const names = name.split(LINE_TERMINATOR);
    if (names.length !== parts.length) return false;
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 1 ? names[i] !== parts[i] : !wildcardMatch(parts[i]!, names[i]!)) return false;
    }
    return true;
  };
}

/**
 * Whole-string wildcard match where `*` takes any run and `?` any one code unit. Greedy, going
 * back only to the last `*` seen: an earlier star never needs to take more, since the last one
 * can absorb anything (which is why line terminators are split off before this is called).
 */
function wildcardMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // index in pattern of the last `*` seen
  let resume = 0; // index in name where that star's run ends for now
  while (n < name.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === QUESTION || (c !== STAR && c === name.charCodeAt(n))) {
      p++;
      n++;
    } else if (c === STAR) {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}
