import type { FastifyInstance } from 'fastify';
import { ActionListQuerySchema, ActionPageSchema, EvidenceSchema } from '@countersign/contracts';
import { filterFromQuery } from '@countersign/core';
import { describeRoute } from '../openapi/route-doc.ts';
import { IdParams } from './actions.ts';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

/**
 * Search and evidence: GET /v1/actions (filters, cursor pages, `awaiting=me`) and an action's
 * artifacts with their chain neighbours (what the console's Verify button checks). Who reads
 * what is the engine's rule (core/gate/access.ts).
 */
export function actionReadRoutes(app: FastifyInstance, ctx: RouteContext): void {
  describeRoute(app, {
    method: 'GET',
    url: '/v1/actions',
    tag: 'actions',
    auth: true,
    summary: 'Search and list actions the caller may read, newest first',
    description: '`awaiting=me`: only what the caller can still approve (a reviewer’s inbox). Cursor pages: pass `nextCursor` as `cursor`.',
    query: ActionListQuerySchema,
    responses: { 200: { description: 'One page.', schema: ActionPageSchema } },
  });
  app.get('/v1/actions', { preHandler: ctx.authenticate }, async (request) => {
    const q = parseInput(ActionListQuerySchema, request.query, 'query');
    return ctx.reads.list({
      caller: callerOf(request),
      filter: filterFromQuery(q),
      awaitingMe: q.awaiting === 'me',
      limit: q.limit,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });

  describeRoute(app, {
    method: 'GET',
    url: '/v1/actions/:id/evidence',
    tag: 'evidence',
    auth: true,
    summary: 'An action’s artifacts and their chain predecessors',
    params: IdParams,
    responses: { 200: { description: 'Everything needed to check each signature, hash and link offline.', schema: EvidenceSchema } },
    problems: [404],
  });
  app.get('/v1/actions/:id/evidence', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    return ctx.reads.evidence(id, callerOf(request));
  });
}
