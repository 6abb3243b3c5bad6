import { z } from 'zod';

// zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect). Schemas carrying a `.meta({ id })` become
// components: zod emits them as $defs, hoisted here into one shared map with refs rewritten.

export type JsonSchema = Record<string, unknown>;

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(DEFS)) out[key] = COMPONENTS + value.slice(DEFS.length);
    else out[key] = rewriteRefs(value);
  }
  return out;
}

export class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};

  /** `input` for what a client sends (before defaults and transforms), `output` for answers. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const raw = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = raw;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      const converted = rewriteRefs(def) as JsonSchema;
      const existing = this.components[id];
      if (existing && JSON.stringify(existing) !== JSON.stringify(converted)) {
        throw new Error(`schema id ${id} has two shapes (an id-bearing schema used for both input and output?)`);
      }
      this.components[id] = converted;
    }
    return rewriteRefs(rest) as JsonSchema;
  }
}
