import type { FastifyInstance } from 'fastify';
import { ActionListQuerySchema } from '@countersign/contracts';
import { filterFromQuery } from '@countersign/core';
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

  app.get('/v1/actions/:id/evidence', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    return ctx.reads.evidence(id, callerOf(request));
  });
}
