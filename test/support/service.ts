import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createPrismaClient, type PrismaClient } from '@countersign/db/testing';
import type { Role, ServiceModule } from '@countersign/modules';
import { startService, type RunningService } from '@countersign/server';
import { parseSettings } from '../../apps/server/src/settings.ts';
import { TestClock } from './clock.ts';
import { freshDatabase, redisUrlForTests } from './database.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures');

export interface TestService {
  url: string;
  service: RunningService;
  clock: TestClock;
  configDir: string;
  databaseUrl: string;
  /**
   * A database client of the test's own, to look at what is really in the tables. The service
   * never hands its client out: its code reaches the tables through packages/db's repositories.
   */
  prisma: PrismaClient;
  /** Bearer tokens by principal id (one key each; deploy-bot's may delegate). */
  tokens: Record<string, string>;
  api(method: string, route: string, opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export async function api(
  baseUrl: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + route, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined; // not JSON (CSV export, metrics): callers read `text`
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A real service (real Postgres database of its own, real Redis) on an ephemeral port. */
export async function startTestService(
  opts: {
    policy?: string;
    directory?: string;
    databaseUrl?: string;
    env?: Record<string, string>;
    keysDir?: string;
    /** Feature modules to run (Slack, Teams, queue…); none by default, so each test says what it needs. */
    modules?: ServiceModule[];
    role?: Role;
    /** Sees every response `api()` receives (test/support/openapi-check.ts holds them to the OpenAPI document). */
    onResponse?: (method: string, route: string, res: ApiResponse) => void;
    /** The service's logger (a test that reads log lines passes its own); silent by default. */
    logger?: pino.Logger;
  } = {},
): Promise<TestService> {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-test-'));
  fs.writeFileSync(path.join(configDir, 'policy.yaml'), opts.policy ?? fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8'));
  fs.writeFileSync(path.join(configDir, 'directory.yaml'), opts.directory ?? fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8'));
  const db = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => undefined } : await freshDatabase();
  const settings = parseSettings({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrlForTests(),
    HOST: '127.0.0.1',
    PORT: '0',
    COUNTERSIGN_POLICY: path.join(configDir, 'policy.yaml'),
    COUNTERSIGN_DIRECTORY: path.join(configDir, 'directory.yaml'),
    COUNTERSIGN_KEYS_DIR: opts.keysDir ?? path.join(configDir, 'keys'),
    // Request budgets have their own test (rate-limit.test.ts); elsewhere a test's request
    // count must not decide its outcome. A test that wants them sets them in `env`.
    COUNTERSIGN_RATE_LIMIT_PER_KEY: '0',
    COUNTERSIGN_RATE_LIMIT_PER_IP: '0',
    ...opts.env,
  });
  const clock = new TestClock();
  const service = await startService({
    settings,
    logger: opts.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    rootDir: configDir,
    clock,
    env: { ...process.env, ...opts.env },
    modules: opts.modules ?? [],
    ...(opts.role ? { role: opts.role } : {}),
  });
  const prisma = createPrismaClient(db.url, { max: 4 });
  const tokens: Record<string, string> = {};
  const principals = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'ivan', 'judy', 'deploy-bot', 'owner-bot'];
  const directory = service.gate.deps.config.current().directory;
  // deploy-bot delegates for every person the tests know (a delegate key must name whom).
  const people = principals.filter((p) => directory.person(p));
  for (const p of principals) {
    if (!directory.principal(p)) continue;
    const delegate = p === 'deploy-bot' ? { canDelegate: true, delegateFor: people } : {};
    tokens[p] = (await service.keys.create(p, delegate)).token;
  }
  return {
    url: service.url,
    service,
    clock,
    configDir,
    databaseUrl: db.url,
    prisma,
    tokens,
    api: async (method, route, o) => {
      const res = await api(service.url, method, route, o);
      opts.onResponse?.(method, route, res);
      return res;
    },
    async stop() {
      await service.stop();
      await prisma.$disconnect();
      await db.drop();
      fs.rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/** Intents used across tests. */
export const intents = {
  read: { action: { type: 'db.query', resource: 'orders-replica' }, risk: { class: 'read' } },
  prodDelete: {
    action: { type: 'environment.delete', resource: 'env/prod-eu-1', summary: 'Delete prod-eu-1' },
    context: { environment: 'production' },
    risk: { class: 'destructive', urgency: 'high' },
    justification: 'region decommissioned',
  },
  piiExport: { action: { type: 'data.export', resource: 'customers' }, context: { attributes: { pii: true } } },
  unmatched: { action: { type: 'thing.unknown' } },
};
