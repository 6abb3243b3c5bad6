import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { slackModule } from '@countersign/slack';
import { workerModule } from '@countersign/worker';
import { startTelemetry, tracingRequested, type Telemetry } from '../apps/server/src/telemetry/index.ts';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { click, type Clicker } from './fakes/slack-interactions.ts';
import { randomQueuePrefix } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// OpenTelemetry tracing of one escalation through the real service and the Slack fake: the
// submission starts the action's trace; the outbox dispatch, the post-cards job and its Slack
// call continue it; each vote is a trace of its own (its request) linking to the action's; the
// card updates the votes cause continue the action's trace and link back to the vote. The
// libraries' spans (http, Fastify, BullMQ, pg, ioredis) sit inside the same traces.

const SECRET = 'tracing-signing-secret-0123456';
const TEAM = 'T0TEAM0001';
const CHANNEL = 'C0TRACED01';
const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM };
const bob: Clicker = { id: 'U0BOB0001', teamId: TEAM };

const RULES = `
  - id: traced
    when: 'action.type == "traced.change"'
    outcome: escalate
    reason: an SRE lead and security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${CHANNEL}']
`;

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let fake: FakeSlack;
let t: TestService;

beforeAll(async () => {
  // The in-memory exporter stands in for OTLP; everything else is the production start-up.
  telemetry = startTelemetry({}, { spanProcessors: [new SimpleSpanProcessor(exporter)] })!;
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [{ id: CHANNEL, name: 'traced-approvals' }],
    users: [
      { id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: bob.id, team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true },
    ],
  });
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8');
  t = await startTestService({
    policy: `${fixture.trimEnd()}\n${RULES}`,
    modules: [slackModule, workerModule],
    env: {
      SLACK_BOT_TOKEN: fake.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_TEAM_ID: TEAM,
      SLACK_API_URL: fake.url,
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      COUNTERSIGN_SWEEP_SECONDS: '3600',
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
  await telemetry?.shutdown();
});

const spans = () => exporter.getFinishedSpans();
const attr = (s: ReadableSpan, key: string) => s.attributes[key];
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const hasButtons = (m: FakeMessage) => m.blocks.some((b) => b.type === 'actions');
const scopeOf = (s: ReadableSpan) => s.instrumentationScope.name;

// Instrumentation scopes of the libraries' spans.
const FASTIFY = '@fastify/otel';
const BULLMQ = 'bullmq';
const HTTP = '@opentelemetry/instrumentation-http';
const PG = '@opentelemetry/instrumentation-pg';
const IOREDIS = '@opentelemetry/instrumentation-ioredis';

/** The finished span with this id (undefined while it runs, or if it was never recorded). */
const byId = (spanId: string | undefined) => spans().find((s) => s.spanContext().spanId === spanId);

/** The parent of `s`, once it has ended (a job's span ends before BullMQ's around it). */
const parent = (s: ReadableSpan, what: string) => fake.waitFor(() => byId(parentOf(s)), 10_000, `${what}: the parent of ${s.name}`);

/**
 * The path a job took through BullMQ: its run hangs under BullMQ's consumer span, which hangs
 * under BullMQ's producer span (the add, in the context the job was enqueued in). Returns the
 * span the job was enqueued under.
 */
async function enqueuedUnder(job: ReadableSpan): Promise<ReadableSpan> {
  const consumer = await parent(job, 'BullMQ consumer span');
  expect(scopeOf(consumer), `${job.name}: BullMQ consumer span`).toBe(BULLMQ);
  expect(consumer.kind).toBe(SpanKind.CONSUMER);
  expect(consumer.name).toBe(`process ${attr(job, 'messaging.destination.name')}`);
  const producer = await parent(consumer, 'BullMQ producer span');
  expect(scopeOf(producer), `${job.name}: BullMQ producer span`).toBe(BULLMQ);
  expect(producer.kind).toBe(SpanKind.PRODUCER);
  return parent(producer, 'the enqueuing span');
}

/**
 * The span that caused a job: the dispatch itself when the job's run is its first attempt (which
 * the dispatcher runs, first-attempts.ts), else the span that enqueued it into BullMQ.
 */
async function causeOf(job: ReadableSpan): Promise<ReadableSpan> {
  if (attr(job, 'countersign.job.first_attempt') === true) return parent(job, 'the dispatch that ran the first attempt');
  return enqueuedUnder(job);
}

/**
 * The spans of one trace once it is whole: every span's parent is among them (waiting for the
 * ones still running, such as BullMQ's consumer span around a job that just ended), but one,
 * the root.
 */
async function wholeTrace(traceId: string, what: string): Promise<ReadableSpan[]> {
  const orphans = (all: ReadableSpan[]) => {
    const ids = new Set(all.map((s) => s.spanContext().spanId));
    return all.filter((s) => parentOf(s) !== undefined && !ids.has(parentOf(s)!));
  };
  const trace = await fake.waitFor(() => {
    const all = spans().filter((s) => s.spanContext().traceId === traceId);
    return orphans(all).length === 0 && all;
  }, 10_000, `${what}: every span's parent recorded`);
  expect(orphans(trace)).toEqual([]);
  const roots = trace.filter((s) => parentOf(s) === undefined);
  expect(roots.map((s) => s.name), `${what}: one root`).toHaveLength(1);
  // The root is the request that started it, as the HTTP server saw it.
  expect(scopeOf(roots[0]!)).toBe(HTTP);
  expect(roots[0]!.kind).toBe(SpanKind.SERVER);
  return trace;
}

/** The one finished span that matches, waiting for it (jobs end after the card is visible). */
async function span(what: string, match: (s: ReadableSpan) => boolean): Promise<ReadableSpan> {
  const found = await fake.waitFor(() => spans().find(match), 10_000, what);
  expect(spans().filter(match), what).toHaveLength(1);
  return found;
}

describe('tracing', () => {
  it('is off unless the OTEL_* variables ask for it', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    // Off: no SDK, no instrumentation, no BullMQ telemetry.
    expect(startTelemetry({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
  });

  it('one escalation is one trace: submit → outbox → post-cards → Slack → votes (linked) → update-cards → Slack', async () => {
    // A probe before anything else: long finished when the spans are looked at below.
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const res = await t.api('POST', '/v1/actions', {
      token: t.tokens['deploy-bot']!,
      body: { action: { type: 'traced.change', resource: 'env/prod', summary: 'Traced change' }, context: { environment: 'production' }, risk: { class: 'write' } },
    });
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    const forAction = (s: ReadableSpan) => attr(s, 'countersign.action_id') === id;

    const submit = await span('submit span', (s) => s.name === 'countersign.submit' && forAction(s));
    const trace = submit.spanContext().traceId;
    const inTrace = (s: ReadableSpan) => s.spanContext().traceId === trace;

    // The request: the HTTP server span, Fastify's request span under it, and the submission
    // inside Fastify's route handler span.
    const handler = await parent(submit, 'the route handler');
    expect(scopeOf(handler), 'submit hangs under a Fastify span').toBe(FASTIFY);
    const request = await parent(handler, 'the request');
    expect(scopeOf(request)).toBe(FASTIFY);
    const server = await parent(request, 'the HTTP server span');
    expect(scopeOf(server)).toBe(HTTP);
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(parentOf(server)).toBeUndefined();

    // Outbox → job (its first attempt, in the dispatcher) → Slack call, each the child of the one before.
    const escalated = await span('dispatch of action.escalated', (s) => s.name === 'countersign.outbox.dispatch' && forAction(s) && attr(s, 'countersign.outbox.event') === 'action.escalated');
    expect(inTrace(escalated)).toBe(true);
    expect(parentOf(escalated)).toBe(submit.spanContext().spanId);
    const postJob = await span('post-cards job', (s) => s.name === 'countersign.job post-cards' && forAction(s));
    expect(inTrace(postJob)).toBe(true);
    expect(attr(postJob, 'countersign.job.first_attempt'), 'run by the dispatcher, not BullMQ').toBe(true);
    expect((await causeOf(postJob)).spanContext().spanId).toBe(escalated.spanContext().spanId);
    const post = await span('postCard call', (s) => s.name === 'countersign.channel postCard' && parentOf(s) === postJob.spanContext().spanId);
    expect(inTrace(post)).toBe(true);

    const card = await fake.waitFor(() => fake.cardsIn(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id)), 10_000, 'card');
    for (const who of [alice, bob]) {
      const clicked = await click(t.url, SECRET, { user: who, decision: 'approve', actionId: id, channel: card.channel, messageTs: card.ts });
      expect(clicked.status).toBe(200);
      // The first vote's own card update runs before the second vote decides (a vote whose
      // event is dispatched only after the decision adds no update of its own).
      if (who === alice) await span('first vote card update', (s) => s.name === 'countersign.job update-cards' && forAction(s));
    }
    await fake.waitFor(() => {
      const c = fake.cardsIn(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(id));
      return c && !hasButtons(c);
    }, 10_000, 'final card');

    // Each vote: its own request's trace, linked to the action's submission.
    const votes = await fake.waitFor(() => {
      const v = spans().filter((s) => s.name === 'countersign.vote' && forAction(s));
      return v.length === 2 && v;
    }, 10_000, 'two vote spans');
    for (const vote of votes) {
      expect(inTrace(vote)).toBe(false);
      expect(vote.links.map((l) => l.context.spanId)).toEqual([submit.spanContext().spanId]);
      expect(vote.links[0]!.context.traceId).toBe(trace);
    }

    // What each vote caused continues the action's trace and links back to the vote.
    const voteIds = new Set(votes.map((v) => v.spanContext().spanId));
    const recorded = await fake.waitFor(() => {
      const d = spans().filter((s) => s.name === 'countersign.outbox.dispatch' && forAction(s) && attr(s, 'countersign.outbox.event') === 'vote.recorded');
      return d.length === 2 && d;
    }, 10_000, 'dispatch of both vote.recorded events');
    for (const d of recorded) {
      expect(inTrace(d)).toBe(true);
      expect(d.links).toHaveLength(1);
      expect(voteIds.has(d.links[0]!.context.spanId)).toBe(true);
    }
    const decided = await span('dispatch of action.decided', (s) => s.name === 'countersign.outbox.dispatch' && forAction(s) && attr(s, 'countersign.outbox.event') === 'action.decided');
    expect(inTrace(decided)).toBe(true);
    expect(voteIds.has(decided.links[0]!.context.spanId)).toBe(true);

    // Every update-cards job hangs off one of those dispatches, and its Slack calls off the job:
    // one for the first vote, one for the decision (the deciding vote's own event adds none, the
    // action being decided by the time it is dispatched).
    const causes = new Set([...recorded, decided].map((d) => d.spanContext().spanId));
    const updateJobs = await fake.waitFor(() => {
      const j = spans().filter((s) => s.name === 'countersign.job update-cards' && forAction(s));
      return j.length === 2 && j;
    }, 10_000, 'two update-cards jobs');
    for (const job of updateJobs) {
      expect(inTrace(job)).toBe(true);
      expect(causes.has((await causeOf(job)).spanContext().spanId)).toBe(true);
    }
    const jobIds = new Set(updateJobs.map((j) => j.spanContext().spanId));
    const updates = spans().filter((s) => s.name === 'countersign.channel updateCard' && jobIds.has(parentOf(s)!));
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every(inTrace)).toBe(true);

    // Nothing about this action left the two kinds of trace: the action's, or a vote's.
    const voteTraces = new Set(votes.map((v) => v.spanContext().traceId));
    for (const s of spans().filter(forAction)) expect(inTrace(s) || voteTraces.has(s.spanContext().traceId), s.name).toBe(true);

    // Each trace is connected (every span's parent is in it, up to the one request that started
    // it), and the libraries' spans are part of it: Fastify's and BullMQ's, Postgres queries
    // and Redis commands included.
    const action = await wholeTrace(trace, 'the action');
    expect(action.find((s) => parentOf(s) === undefined)).toBe(server);
    const scopes = new Set(action.map(scopeOf));
    for (const scope of [HTTP, FASTIFY, BULLMQ, PG, IOREDIS, 'countersign']) expect(scopes.has(scope), `${scope} spans in the action's trace`).toBe(true);
    for (const vote of votes) {
      const voted = await wholeTrace(vote.spanContext().traceId, 'a vote');
      expect(voted.some((s) => scopeOf(s) === FASTIFY)).toBe(true);
    }

    // Probes and scrapes are not traced, not even by Fastify's instrumentation.
    expect(spans().filter((s) => ['/healthz', '/readyz', '/metrics'].includes(String(attr(s, 'url.path') ?? attr(s, 'http.target') ?? '')))).toEqual([]);
  });

  it('never puts an authorization code, state or token from a query string into a span', async () => {
    await t.api('GET', '/console/auth/callback?code=SECRET-CODE-123&state=SECRET-STATE-456&access_token=SECRET-TOKEN-789');
    await new Promise((r) => setTimeout(r, 50));
    const seen = spans().filter((s) => String(attr(s, 'url.path') ?? attr(s, 'http.target') ?? '').includes('/console/auth/callback'));
    expect(seen.length).toBeGreaterThan(0);
    expect(JSON.stringify(seen.map((s) => s.attributes))).not.toMatch(/SECRET-/);
  });
});
