import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { ActionViewSchema, IntentRequestSchema } from '@countersign/contracts';
import { describeRoute } from '../openapi/route-doc.ts';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

const IdParams = z.strictObject({ id: z.string().regex(/^act_[a-z0-9]{20}$/, 'not an action id') });
const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
// Whole seconds as digits: Number() would take an empty `wait=` as 0 and `0x10` as 16.
const WaitQuery = z.strictObject({
  wait: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'whole seconds, 0 to 3600')
    .transform(Number)
    .pipe(z.number().int().min(0).max(3600))
    .default(0),
});

export function actionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const submissions = new Counter({
    name: 'countersign_submissions_total',
    help: 'Intents submitted, by policy verdict (replays of an Idempotency-Key not counted).',
    labelNames: ['verdict'] as const,
    registers: [app.metricsRegistry],
  });
  describeRoute(app, {
    method: 'POST',
    url: '/v1/actions',
    tag: 'actions',
    auth: true,
    summary: 'Submit an intent: approve, refuse or escalate',
    description: 'The policy decides at once (approve or refuse, sealed as an artifact) or escalates: the action is held (`pending`) while people are asked. An approved action carries a release token. Bad input is 400 `invalid_intent`.',
    headers: { 'Idempotency-Key': { description: 'Replays of the same key and body answer the first result (200, `Idempotent-Replayed: true`); another body is 409.', schema: IdempotencyKey } },
    body: IntentRequestSchema,
    bodyRequired: true,
    responses: {
      201: { description: 'Decided or escalated.', schema: ActionViewSchema, headers: { Location: 'The action’s URL.' } },
      200: { description: 'A replay of an Idempotency-Key: the first answer.', schema: ActionViewSchema },
    },
    problems: [403, 409],
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

  describeRoute(app, {
    method: 'GET',
    url: '/v1/actions/:id',
    tag: 'actions',
    auth: true,
    summary: 'Read an action; long-poll with ?wait=N',
    description: 'With `wait`, answers as soon as the action is final or after N seconds (capped by COUNTERSIGN_MAX_WAIT_SECONDS), whichever is first.',
    params: IdParams,
    query: WaitQuery,
    responses: { 200: { description: 'The action with its intent (redacted as its approvers see it), progress and timeline.', schema: ActionViewSchema } },
    problems: [404],
  });
  app.get('/v1/actions/:id', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const { wait } = parseInput(WaitQuery, request.query, 'query');
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
