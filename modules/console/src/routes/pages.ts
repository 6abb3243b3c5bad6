import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ActionFilterQuerySchema, ActionListQuerySchema, DomainError, filterInstant, FilterInstantSchema } from '@countersign/contracts';
import { auditExportRequest, filterFromQuery, peopleOf, zodIssues } from '@countersign/core';
import { loadPolicy, type CompiledPolicy } from '@countersign/policy';
import type { ConsoleDeps } from '../deps.ts';
import { actionPage } from '../pages/action.ts';
import { historyPage } from '../pages/history.ts';
import { inboxPage, inboxRows } from '../pages/inbox.ts';
import { policyPage } from '../pages/policy.ts';
import { change, page } from '../signed-in.ts';

const ActionId = z.strictObject({ id: z.string().regex(/^act_[a-z0-9]{20}$/, 'not an action id') });
// The API's vote body (POST /v1/actions/:id/votes), as a form: an empty reason is no reason.
const VoteForm = z.strictObject({
  _csrf: z.string().optional(),
  decision: z.enum(['approve', 'deny']),
  reason: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().min(1).max(2000).optional()),
});

// The filters' own bounded dates (contracts): an unbounded year 0000 reached Postgres as a 500.
const instant = FilterInstantSchema;
// The list's filters (a selection of those actions) plus the export's format and artifact time range.
const ExportQuery = ActionFilterQuerySchema.extend({ format: z.enum(['jsonl', 'csv']).default('jsonl'), from: instant.optional(), to: instant.optional() });

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new DomainError('invalid_request', `The request ${where} is not valid.`, { issues: zodIssues(parsed.error) });
}

/** Form fields as the form sent them, empty ones dropped (an empty filter is no filter). */
function filled(query: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((query ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== ''));
}

const html = 'text/html; charset=utf-8';

export function pageRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const inbox = async (caller: Parameters<typeof deps.reads.list>[0]['caller']) =>
    (await deps.reads.list({ caller, filter: {}, awaitingMe: true, limit: 200 })).items;

  app.get('/console', page(deps, async (_req, reply, who) => reply.type(html).send(inboxPage(who.viewer, await inbox(who.caller), deps.clock.now()))));

  // Fetched by the inbox itself on each change: not the person's activity, so an open tab still goes idle.
  app.get('/console/inbox/rows', page(deps, async (_req, reply, who) => reply.type(html).send(inboxRows(await inbox(who.caller), deps.clock.now()).text), { activity: false }));

  app.get(
    '/console/actions/:id',
    page(deps, async (request, reply, who) => {
      const { id } = parse(ActionId, request.params, 'path');
      const view = await deps.reads.read(id, who.caller);
      const voted = (request.query as Record<string, unknown>).voted;
      const notice = voted === 'approve' ? 'Your approval was recorded.' : voted === 'deny' ? 'Your denial was recorded.' : undefined;
      return reply.type(html).send(actionPage(view, who.viewer, notice ? { notice } : {}));
    }),
  );

  app.post(
    '/console/actions/:id/vote',
    change(deps, async (request, reply, who) => {
      const { id } = parse(ActionId, request.params, 'path');
      const typed = typeof (request.body as Record<string, unknown>)?.reason === 'string' ? String((request.body as Record<string, unknown>).reason) : '';
      try {
        const form = parse(VoteForm, request.body, 'form');
        const account = { sessionSubject: who.caller.session.subject };
        await deps.gate.vote({ actionId: id, personId: who.caller.principal.id, channel: 'web', decision: form.decision, reason: form.reason ?? null, account });
        return reply.redirect(`/console/actions/${id}?voted=${form.decision}`, 303);
      } catch (err) {
        if (!(err instanceof DomainError) || err.code === 'not_found') throw err;
        // Refused by the engine or by the form's schema: the page again, the problem where it belongs.
        const view = await deps.reads.read(id, who.caller);
        const problem = { code: err.code, message: err.message, fields: err.issues, reason: typed };
        const status = { invalid_request: 400, reason_required: 422, self_approval: 403, not_eligible: 403, unknown_identity: 403, already_voted: 409, already_decided: 409, expired: 409 }[err.code as string] ?? 400;
        return reply.code(status).type(html).send(actionPage(view, who.viewer, { problem }));
      }
    }),
  );

  app.get(
    '/console/actions/:id/evidence.json',
    page(deps, async (request, _reply, who) => {
      const { id } = parse(ActionId, request.params, 'path');
      return deps.reads.evidence(id, who.caller);
    }),
  );

  app.get(
    '/console/history',
    page(deps, async (request, reply, who) => {
      const values = filled(request.query);
      try {
        const q = parse(ActionListQuerySchema, values, 'query');
        const result = await deps.reads.list({ caller: who.caller, filter: filterFromQuery(q), limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
        return reply.type(html).send(historyPage({ viewer: who.viewer, values, items: result.items, nextCursor: result.nextCursor }));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        return reply.code(400).type(html).send(historyPage({ viewer: who.viewer, values, items: [], nextCursor: null, problem: { code: err.code, message: err.message, fields: err.issues } }));
      }
    }),
  );

  // The history's filters make the download a selection (its signed trailer names them and
  // digests the records, so `countersign verify` proves it whole); none, the whole chain.
  app.get(
    '/console/history/export',
    page(deps, async (request, reply, who) => {
      deps.reads.assertAuditor(who.caller);
      const { format, from, to, ...query } = parse(ExportQuery, filled(request.query), 'query');
      const range = { ...(from ? { from: filterInstant(from) } : {}), ...(to ? { to: filterInstant(to) } : {}) };
      if (range.from && range.to && range.from >= range.to) {
        throw new DomainError('invalid_request', '`from` must be before `to`.', { issues: [{ field: 'from', message: 'must be before to' }] });
      }
      const exported = await auditExportRequest(deps.reads, who.caller, { format, range, query });
      const stamp = deps.clock.now().toISOString().replace(/[:.]/g, '-');
      reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="countersign-audit-${stamp}.${format}"`);
      return reply.send(Readable.from(deps.audit.lines(exported)));
    }),
  );

  app.get(
    '/console/policy',
    page(deps, async (_request, reply, who) => {
      let policy: CompiledPolicy | null = null;
      let loadError: string | undefined;
      try {
        policy = loadPolicy(fs.readFileSync(deps.policyPath, 'utf8'), deps.policyPath, { channels: deps.channels });
      } catch (err) {
        loadError = (err as Error).message;
      }
      return reply.type(html).send(
        policyPage({ viewer: who.viewer, digestInForce: deps.config.current().policy.digest, policy, ...(loadError ? { loadError } : {}), people: peopleOf(deps.config) }),
      );
    }),
  );
}
