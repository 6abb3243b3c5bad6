import { ActionTypeSchema } from '@countersign/contracts';
import { parseDuration } from '@countersign/policy';
import { z } from 'zod';

// The mapping file as operators write it (see README.md). Strict everywhere: a misspelt key
// such as `passtrough` must stop the proxy at start, not quietly forward a tool ungated.

const duration = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 30s, 10m, 4h or 1h30m` });
    return z.NEVER;
  }
  return seconds;
});

/** A CEL expression over `args` (the call's arguments). Compiled at load time. */
const expression = z.string().trim().min(1, 'an expression cannot be empty');

const attributes = z.record(z.string().min(1).max(100), expression);

// Tool names in MCP are 1–128 of [A-Za-z0-9_.-]; a pattern adds * and ? as globs.
const toolPattern = z
  .string()
  .regex(/^[A-Za-z0-9_.\-*?/]{1,128}$/, 'a tool name, or a glob with * and ? (e.g. "delete_*")');

export const ToolMappingSchema = z
  .strictObject({
    match: toolPattern,
    /** Forward without asking countersign. Only ever explicit: an unmapped tool is refused. */
    passthrough: z.literal(true).optional(),
    action: z
      .strictObject({
        type: ActionTypeSchema,
        resource: expression.optional(),
        summary: expression.optional(),
      })
      .optional(),
    context: z
      .strictObject({
        environment: expression.optional(),
        account: expression.optional(),
        jurisdiction: expression.optional(),
        matter: expression.optional(),
        attributes: attributes.optional(),
      })
      .optional(),
    risk: z
      .strictObject({
        class: z.string().trim().min(1).max(60).optional(),
        urgency: z.enum(['low', 'normal', 'high', 'critical']).optional(),
      })
      .optional(),
    authority: z
      .strictObject({
        changeTicket: expression.optional(),
        clientInstruction: expression.optional(),
        regulation: expression.optional(),
        reference: expression.optional(),
        attributes: attributes.optional(),
      })
      .optional(),
    justification: expression.optional(),
    /** Appended to the tool's description in tools/list, e.g. "needs approval by: an SRE lead and security". */
    annotate: z.string().trim().min(1).max(500).optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.passthrough && (entry.action || entry.context || entry.risk || entry.authority || entry.justification)) {
      ctx.addIssue({ code: 'custom', path: ['passthrough'], message: 'a passthrough tool is not gated: it cannot also describe an action' });
    }
    if (!entry.passthrough && !entry.action) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: 'say which action this tool is (action.type), or mark it `passthrough: true`' });
    }
  });

const ReleaseSchema = z.strictObject({
  /** Key in the forwarded call's `_meta` that carries the release token. */
  meta: z.string().min(1).max(200).optional(),
  /** HTTP header that carries the release token (Streamable HTTP upstream only). */
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,100}$/, 'an HTTP header name')
    .optional(),
});

export const MappingFileSchema = z.strictObject({
  version: z.literal(1, 'version must be 1'),
  gate: z
    .strictObject({
      /** Longest a held call waits for people; then the action is withdrawn. */
      maxWait: duration.default(15 * 60),
      /** How often a held call reports progress to a client that asked for it. */
      progressEvery: duration.default(10),
      release: ReleaseSchema.default({}),
    })
    .default({ maxWait: 15 * 60, progressEvery: 10, release: {} }),
  tools: z.array(ToolMappingSchema).default([]),
});

export type MappingFile = z.output<typeof MappingFileSchema>;
export type ToolMappingEntry = z.output<typeof ToolMappingSchema>;
