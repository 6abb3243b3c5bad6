import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import type { ServiceModule } from '@countersign/modules';
import { workerEngine, workerModule, type WorkerEngine } from '@countersign/worker';
import { freshDatabase, randomQueuePrefix, redisUrlForTests } from '../support/database.ts';
import { startTestService, type TestService } from '../support/service.ts';
import { channelModule, type RecordingChannel } from './fake-channel.ts';

// Queue-engine tests: a real service (own Postgres database, real Redis under a random queue
// prefix) running the worker module and recording channels.

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');

/** Rules with channel hints, reminders and a tier, appended to the shared fixture policy. */
export const QUEUE_RULES = `
  - id: queue-cards
    when: 'action.type == "queue.cards"'
    outcome: escalate
    reason: cards in slack and teams, reminders and a second tier
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#sre-approvals']
        teams: ['19:sre-team@thread.tacv2']
        people: [bob]
        reminders: [5m, 10m]
        tiers:
          - { after: 15m, slack: ['#sre-secondary'], people: [judy] }

  - id: queue-slack-only
    when: 'action.type == "queue.slack"'
    outcome: escalate
    reason: one slack channel
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#ops']
`;

/** A rule naming an executor (held execution): allow its destination with HELD_RULE_ENV. */
export const HELD_RULE = `
  - id: queue-held
    when: 'action.type == "queue.held"'
    outcome: escalate
    reason: one slack channel, and countersign runs the approved request itself
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#ops']
    executor:
      url: https://runner.example.com/run/{{action.resource}}
      method: POST
`;
export const HELD_RULE_ENV = { COUNTERSIGN_EXECUTOR_ALLOWLIST: 'https://runner.example.com' };

export function queuePolicy(): string {
  return fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + QUEUE_RULES;
}

export const queueIntents = {
  cards: {
    action: { type: 'queue.cards', resource: 'env/prod-eu-1', summary: 'Delete prod-eu-1', params: { region: 'eu-1' } },
    context: { environment: 'production' },
    risk: { class: 'destructive', urgency: 'high' },
    justification: 'region decommissioned',
  },
  slack: { action: { type: 'queue.slack', resource: 'db/main' } },
  /** Under a rule naming an executor (held execution). */
  held: { action: { type: 'queue.held', resource: 'db-main' } },
};

export interface QueueTest extends TestService {
  prefix: string;
  engine(): WorkerEngine;
}

export interface QueueTestOptions {
  channels?: RecordingChannel[];
  /** Extra modules (e.g. a DecisionDelivery), registered after the channels, before the worker. */
  modules?: ServiceModule[];
  env?: Record<string, string>;
  role?: 'all' | 'api' | 'worker';
  /** Share a database (and prefix) with another service; the caller drops it. */
  databaseUrl?: string;
  prefix?: string;
  /** The policy file's text (default: queuePolicy()). */
  policy?: string;
}

export async function startQueueTest(opts: QueueTestOptions = {}): Promise<StartedQueueTest> {
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => undefined } : await freshDatabase();
  const prefix = opts.prefix ?? randomQueuePrefix();
  const t = await startTestService({
    policy: opts.policy ?? queuePolicy(),
    databaseUrl: db.url,
    ...(opts.role ? { role: opts.role } : {}),
    env: {
      DATABASE_URL: db.url,
      COUNTERSIGN_QUEUE_PREFIX: prefix,
      COUNTERSIGN_SWEEP_SECONDS: '1',
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0,teams=0',
      ...opts.env,
    },
    modules: [...(opts.channels ?? []).map(channelModule), ...(opts.modules ?? []), workerModule],
  }).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  return {
    ...t,
    prefix,
    engine() {
      const e = workerEngine(t.service.context);
      if (!e) throw new Error('no worker engine in this service (role api?)');
      return e;
    },
    dropDatabase: () => db.drop(),
  };
}

export type StartedQueueTest = QueueTest & { dropDatabase(): Promise<void> };

export interface QueueStarter {
  (opts?: QueueTestOptions): Promise<StartedQueueTest>;
  /** Stops one service before the case ends (it is not stopped again). */
  stop(t: StartedQueueTest): Promise<void>;
  /** Runs once the case's services are stopped (e.g. drops a database they shared). */
  afterwards(cleanup: () => Promise<void>): void;
}

/**
 * For files that start queue tests per case: returns the starter, and after each case stops
 * every service it started, last first, dropping each one's own database, then runs what was
 * registered with `afterwards`.
 */
export function queueTestsPerCase(): QueueStarter {
  const running: StartedQueueTest[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async (t: StartedQueueTest) => {
    running.splice(running.indexOf(t), 1);
    await t.stop();
    await t.dropDatabase();
  };
  afterEach(async () => {
    for (const t of [...running].reverse()) await stop(t);
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const start = async (opts?: QueueTestOptions) => {
    const t = await startQueueTest(opts);
    running.push(t);
    return t;
  };
  return Object.assign(start, { stop, afterwards: (cleanup: () => Promise<void>) => void cleanups.push(cleanup) });
}

/** The value of the first /metrics line matching `line` (0 when there is none). */
export async function metric(t: QueueTest, line: RegExp): Promise<number> {
  const text = (await t.api('GET', '/metrics')).text;
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : 0;
}

/** Submits `body` (held for approval under the queue policy) as `as` and returns the action id. */
export async function escalate(t: QueueTest, body: unknown = queueIntents.cards, as = 'deploy-bot'): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens[as], body });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

/** Deletes every Redis key under the prefix: what losing Redis looks like to this engine. */
export async function deletePrefixKeys(prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrlForTests());
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return n;
}
