import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '@countersign/contracts';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

const ExportQuery = z.strictObject({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/**
 * The approval history with its artifacts, streamed, ending in a signed trailer so a verifier
 * can tell a complete export from a truncated one.
 */
export function auditRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/audit/export', { preHandler: ctx.authenticate }, async (request, reply) => {
    const caller = callerOf(request);
    const allowed = ctx.settings.COUNTERSIGN_AUDIT_ROLES;
    if (caller.principal.kind !== 'person' || !caller.principal.roles.some((r) => allowed.includes(r))) {
      throw new DomainError('forbidden', `Exporting the audit history needs one of the roles: ${allowed.join(', ')}.`);
    }
    const q = parseInput(ExportQuery, request.query, 'query');
    const range = { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined };
    if (range.from && range.to && range.from >= range.to) {
      throw new DomainError('invalid_request', '`from` must be before `to`.', { issues: [{ field: 'from', message: 'must be before to' }] });
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .header('content-type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="countersign-audit-${stamp}.${q.format}"`);
    return reply.send(Readable.from(ctx.audit.lines({ format: q.format, range })));
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return ctx.keyring.jwks();
  });
}
