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

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\/-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}
