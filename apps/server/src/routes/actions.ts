import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { z } from 'zod';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

const IdParams = z.strictObject({ id: z.string().regex(/^act_[a-z0-9]{20}$/, 'not an action id') });
const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export function actionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const submissions = new Counter({
    name: 'countersign_submissions_total',
    help: 'Intents submitted, by policy verdict (replays of an Idempotency-Key not counted).',
    labelNames: ['verdict'] as const,
    registers: [app.metricsRegistry],
  });
  app.post('/v1/actions', { preHandler: ctx.authenticate, config: { invalidCode: 'invalid_intent' } }, async (request, reply) => {
    const header = request.headers['idempotency-key'];
    const idempotencyKey = header === undefined ? undefined : parseInput(IdempotencyKey, header, 'Idempotency-Key header');
    const { view, replayed } = await ctx.gate.submit({ caller: callerOf(request), body: request.body, idempotencyKey });
    if (replayed) reply.header('idempotent-replayed', 'true');
    else submissions.inc({ verdict: view.verdict });
    reply.header('location', `/v1/actions/${view.id}`);
    return reply.code(replayed ? 200 : 201).send(view);
  });

  app.get('/v1/actions/:id', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const { wait } = parseInput(z.strictObject({ wait: z.coerce.number().int().min(0).max(3600).default(0) }), request.query, 'query');
    const caller = callerOf(request);
    const seconds = Math.min(wait, ctx.settings.COUNTERSIGN_MAX_WAIT_SECONDS);
    if (seconds === 0) return ctx.reads.read(id, caller);
    // A client that hangs up stops its wait; nothing else depends on it.
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    return ctx.reads.read(id, caller, { seconds, signal: abort.signal });
  });
}

export { IdParams };
