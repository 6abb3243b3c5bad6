import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@countersign/devstack';
import { createPrismaClient } from '@countersign/db/testing';
import { publicKeysFromPem, verifyExport } from '@countersign/evidence';
import { freshDatabase, randomQueuePrefix, redisUrlForTests, type TestDatabase } from './support/database.ts';
import { api, startTestService } from './support/service.ts';
import { FakeSlack } from './fakes/slack-api.ts';
import { waitFor } from './fakes/fake-channel.ts';

// Scale-out: two API processes and two worker processes (apps/server/src/main.ts with --role)
// against one Postgres and one Redis, Slack faked at the Web API. A few hundred escalations
// with concurrent votes through both APIs must end with exactly one final decision each, one
// card per Slack conversation per action, every card showing the outcome, and an artifact
// chain that verifies.

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const ACTIONS = 300;
const SRE_CHANNEL = 'C0SRE00001';
const BOB_DM = 'D0BOB0001';
const ERIN_DM = 'D0ERIN001';

const RULE = `
  - id: multi-process
    when: 'action.type == "mp.change"'
    outcome: escalate
    reason: an SRE lead and security, asked in #sre-approvals and by DM to bob
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#sre-approvals']
        people: [bob]
`;

interface Child {
  role: 'api' | 'worker';
  url: string;
  proc: ChildProcess;
  output: string[];
}

const children: Child[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

async function stopChild(child: Child): Promise<void> {
  const p = child.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((done) => p.once('exit', () => done()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

afterAll(async () => {
  await Promise.all(children.splice(0).map(stopChild));
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

async function startChild(role: 'api' | 'worker', env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  // One node process per child (tsx as a loader), so stopping it by pid stops it all.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts', '--role', role], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = { role, url: `http://127.0.0.1:${port}`, proc, output: [] };
  const keep = (chunk: Buffer) => {
    child.output.push(chunk.toString('utf8'));
    if (child.output.length > 200) child.output.shift();
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  children.push(child);
  return child;
}

async function healthy(child: Child): Promise<void> {
  await waitFor(
    `${child.role} process on ${child.url} to answer /readyz`,
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`exited ${child.proc.exitCode}: ${child.output.join('').slice(-2000)}`);
      return (await fetch(`${child.url}/readyz`)).status === 200;
    },
    90_000,
    200,
  );
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

describe('scale-out: two API and two worker processes', () => {
  it(`decides each of ${ACTIONS} escalations once and posts each card once`, async () => {
    const slack = await FakeSlack.start({
      channels: [{ id: SRE_CHANNEL, name: 'sre-approvals' }],
      users: [
        { id: 'U0ALICE01', team_id: 'T0TEAM0001', email: 'alice@example.com', is_email_confirmed: true },
        { id: 'U0BOB0001', team_id: 'T0TEAM0001', email: 'bob@example.com', is_email_confirmed: true },
        // The requester behind deploy-bot (its owner): found by email, told the outcome by DM.
        { id: 'U0ERIN001', team_id: 'T0TEAM0001', email: 'erin@example.com', is_email_confirmed: true },
      ],
    });
    cleanups.push(() => slack.close());
    const db: TestDatabase = await freshDatabase();
    cleanups.push(() => db.drop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-mp-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const policy = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + RULE;
    const directory = fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'policy.yaml'), policy);
    fs.writeFileSync(path.join(dir, 'directory.yaml'), directory);
    const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    // API keys for the principals, minted in-process on the shared database.
    const minter = await startTestService({ databaseUrl: db.url, policy, directory, env: { COUNTERSIGN_SIGNING_KEY: signingKey } });
    const tokens = minter.tokens;
    await minter.stop();

    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrlForTests(),
      COUNTERSIGN_SKIP_MIGRATIONS: '1',
      COUNTERSIGN_SIGNING_KEY: signingKey,
      COUNTERSIGN_POLICY: path.join(dir, 'policy.yaml'),
      COUNTERSIGN_DIRECTORY: path.join(dir, 'directory.yaml'),
      COUNTERSIGN_KEYS_DIR: path.join(dir, 'keys'),
      COUNTERSIGN_WEBHOOK_SECRET: 'multi-process-test-webhook-master-secret',
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_WORKER_CONCURRENCY: '8',
      // Pacing has its own test; here every card goes to one channel and one DM.
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0',
      COUNTERSIGN_SWEEP_SECONDS: '5',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: 'multi-process-signing-secret',
      SLACK_TEAM_ID: slack.teamId,
      SLACK_API_URL: slack.url,
      LOG_LEVEL: 'warn',
    };
    const apis = [await startChild('api', env), await startChild('api', env)];
    const workers = [await startChild('worker', env), await startChild('worker', env)];
    await Promise.all([...apis, ...workers].map(healthy));
    // Every role serves health and metrics.
    for (const c of [...apis, ...workers]) {
      expect((await fetch(`${c.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${c.url}/metrics`)).status).toBe(200);
    }

    // Escalations through both APIs.
    const ids = await pool(Array.from({ length: ACTIONS }, (_, i) => i), 24, async (i) => {
      const res = await api(apis[i % 2]!.url, 'POST', '/v1/actions', {
        token: tokens['deploy-bot'],
        body: { action: { type: 'mp.change', resource: `svc/${i}`, summary: `Change ${i}` }, justification: 'load test' },
      });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    });
    const prisma = createPrismaClient(db.url, { max: 4 });
    cleanups.push(() => prisma.$disconnect());
    const postedCount = async () => prisma.channelCard.count({ where: { actionId: { in: ids }, state: 'posted' } });
    await waitFor('two cards per action', async () => (await postedCount()) === 2 * ACTIONS, 120_000, 250);

    // Concurrent votes through both APIs: alice (sre-lead), bob (security) and carol (both
    // roles, fills at most one slot); on every fifth action judy denies at the same time.
    await pool(ids, 12, async (id, i) => {
      const vote = (n: number, person: string, decision: 'approve' | 'deny') =>
        api(apis[(i + n) % 2]!.url, 'POST', `/v1/actions/${id}/votes`, { token: tokens[person], body: { decision, reason: `${person} says ${decision}` } });
      const results = await Promise.all([
        vote(0, 'alice', 'approve'),
        vote(1, 'bob', 'approve'),
        vote(0, 'carol', 'approve'),
        ...(i % 5 === 0 ? [vote(1, 'judy', 'deny')] : []),
      ]);
      // Accepted, or refused with a reason (already decided, slot taken); never a server error.
      for (const r of results) expect(r.status, `${r.text}\n${apis.map((a) => a.output.join('')).join('\n').slice(-4000)}`).toBeLessThan(500);
    });

    // Exactly one final decision per action, and its artifact.
    const actions = await prisma.action.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
    expect(actions.filter((a) => a.status === 'pending')).toEqual([]);
    const decidedArtifacts = await prisma.artifact.groupBy({ by: ['actionId'], where: { actionId: { in: ids }, kind: 'action.decided' }, _count: true });
    expect(decidedArtifacts).toHaveLength(ACTIONS);
    expect(decidedArtifacts.every((g) => g._count === 1)).toBe(true);
    const outcomes = new Map(actions.map((a) => [a.id, a.status]));
    expect([...outcomes.values()].filter((s) => s === 'approved').length).toBeGreaterThan(ACTIONS / 2);

    // Every card shows its action's outcome in the end (the final chat.update wins).
    const word: Record<string, string> = { approved: 'Approved', refused: 'Refused' };
    const mentions = (id: string) => [...slack.messages.values()].filter((m) => m.threadTs === null && JSON.stringify(m.history[0]!.blocks).includes(id));
    const messagesFor = (id: string) => mentions(id).filter((m) => m.channel !== ERIN_DM);
    await waitFor(
      'every card updated to its outcome',
      () => ids.every((id) => messagesFor(id).filter((m) => m.history.at(-1)!.text.startsWith(word[outcomes.get(id)!]!)).length === 2),
      120_000,
      500,
    );

    // One card per Slack conversation per action: in the channel and in bob's DM.
    for (const id of ids) {
      const msgs = messagesFor(id);
      expect(msgs.map((m) => m.channel).sort(), id).toEqual([BOB_DM, SRE_CHANNEL].sort());
    }
    // The requester heard the outcome once.
    await waitFor('one notice per action', () => ids.every((id) => mentions(id).filter((m) => m.channel === ERIN_DM).length === 1), 60_000, 500);
    const rows = await prisma.channelCard.findMany({ where: { actionId: { in: ids }, NOT: { target: { startsWith: 'notice/' } } } });
    expect(rows).toHaveLength(2 * ACTIONS);
    expect(rows.every((r) => r.state === 'posted')).toBe(true);

    // The artifact chain verifies: every hash, link and signature, no gaps.
    const exported = await api(apis[0]!.url, 'GET', '/v1/audit/export?format=jsonl', { token: tokens.grace });
    expect(exported.status).toBe(200);
    const keys = publicKeysFromPem(createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString());
    const report = await verifyExport(exported.text.trim().split('\n'), keys);
    expect(report.ok, JSON.stringify(report.problems?.slice(0, 3))).toBe(true);

    // Both workers did part of the work, and each process still answers health checks.
    for (const w of workers) expect(await (await fetch(`${w.url}/metrics`)).text()).toMatch(/countersign_jobs_completed_total\{job="post-cards"\} [1-9]/);
    for (const c of [...apis, ...workers]) expect((await fetch(`${c.url}/readyz`)).status).toBe(200);
  }, 420_000);
});
