import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ActionFilterQuerySchema, DomainError, FilterInstantSchema, filterInstant, JwksSchema } from '@countersign/contracts';
import { auditExportRequest } from '@countersign/core';
import { describeRoute } from '../openapi/route-doc.ts';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

// The list's filters (GET /v1/actions) plus the export's own: its format and the artifacts' time range.
const ExportQuery = ActionFilterQuerySchema.extend({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  // Bounded like the filters' dates (a year-0000 instant reached Postgres and failed there), and
  // read like them and the console's export: a calendar date is midnight UTC.
  from: FilterInstantSchema.optional(),
  to: FilterInstantSchema.optional(),
});

/**
 * The approval history with its artifacts, streamed, ending in a signed trailer so a verifier
 * can tell a complete export from a truncated one. The list's filters make it a selection (the
 * trailer says so); each record says what was approved, redacted as the auditor reads actions.
 */
export function auditRoutes(app: FastifyInstance, ctx: RouteContext): void {
  describeRoute(app, {
    method: 'GET',
    url: '/v1/audit/export',
    tag: 'evidence',
    auth: true,
    summary: 'The approval history with its artifacts (audit roles)',
    description: 'Streamed: one sealed artifact per line (JSONL) or a CSV, ending in a signed trailer so a verifier can tell a complete export from a truncated one. The list’s filters make it a selection (the trailer says so).',
    query: ExportQuery,
    responses: { 200: { description: 'The export, as an attachment.', contentType: ['application/x-ndjson', 'text/csv'] } },
    problems: [403],
  });
  app.get('/v1/audit/export', { preHandler: ctx.authenticate }, async (request, reply) => {
    const caller = callerOf(request);
    ctx.reads.assertAuditor(caller);
    const { format, from, to, ...query } = parseInput(ExportQuery, request.query, 'query');
    const range = { ...(from ? { from: filterInstant(from) } : {}), ...(to ? { to: filterInstant(to) } : {}) };
    if (range.from && range.to && range.from >= range.to) {
      throw new DomainError('invalid_request', '`from` must be before `to`.', { issues: [{ field: 'from', message: 'must be before to' }] });
    }
    const exported = await auditExportRequest(ctx.reads, caller, { format, range, query });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="countersign-audit-${stamp}.${format}"`);
    return reply.send(Readable.from(ctx.audit.lines(exported)));
  });

  describeRoute(app, {
    method: 'GET',
    url: '/.well-known/jwks.json',
    tag: 'evidence',
    summary: 'Public keys for release tokens and artifacts',
    responses: { 200: { description: 'Ed25519 keys; retired ones are verify-only with the last sequence number they signed.', schema: JwksSchema } },
  });
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return ctx.keyring.jwks();
  });
}
