import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@countersign/devstack';
import { createPrismaClient } from '@countersign/db/testing';
import { freshDatabase, randomQueuePrefix, redisUrlForTests } from './support/database.ts';
import { api, intents, startTestService, type ApiResponse } from './support/service.ts';
import { waitFor } from './fakes/fake-channel.ts';

// SIGTERM in the middle of load, as Kubernetes or `docker stop` sends it to the production entry
// (apps/server/src/main.ts): every request the process accepted is answered, the process exits 0,
// and nothing is half-written: each action a caller was told about exists with its artifact, no
// action or vote exists that its caller was not told about, and the evidence chain has no gap.

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const CALLERS = 12;
const SIGTERM_AFTER = 60;

interface Call {
  kind: 'submit' | 'vote';
  key: string;
  /** Sent before SIGTERM was: in flight when the process was told to stop. */
  inFlight: boolean;
  response?: ApiResponse;
  error?: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
}, 60_000);

describe('SIGTERM under load (production entry)', () => {
  it('answers every accepted request, exits 0, and leaves no half-written action, vote or gap', async () => {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-sigterm-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const policy = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8');
    const directory = fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'policy.yaml'), policy);
    fs.writeFileSync(path.join(dir, 'directory.yaml'), directory);
    const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const minter = await startTestService({ databaseUrl: db.url, policy, directory, env: { COUNTERSIGN_SIGNING_KEY: signingKey } });
    const tokens = minter.tokens;
    await minter.stop();

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const output: string[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrlForTests(),
        COUNTERSIGN_SKIP_MIGRATIONS: '1',
        COUNTERSIGN_SIGNING_KEY: signingKey,
        COUNTERSIGN_POLICY: path.join(dir, 'policy.yaml'),
        COUNTERSIGN_DIRECTORY: path.join(dir, 'directory.yaml'),
        COUNTERSIGN_WEBHOOK_SECRET: 'sigterm-under-load-test-webhook-master-secret',
        COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
        COUNTERSIGN_RATE_LIMIT_PER_KEY: '0',
        COUNTERSIGN_RATE_LIMIT_PER_IP: '0',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 200) output.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    await waitFor(
      'the service to be ready',
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${output.join('').slice(-2000)}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
      },
      90_000,
      200,
    );

    // Callers submit escalations and reads and vote on what escalated, until the service stops
    // answering; SIGTERM goes out once SIGTERM_AFTER calls have been answered.
    const calls: Call[] = [];
    let answered = 0;
    let signalled = false;
    const call = async (kind: Call['kind'], key: string, route: string, token: string, body: unknown) => {
      const entry: Call = { kind, key, inFlight: !signalled };
      calls.push(entry);
      try {
        entry.response = await api(url, 'POST', route, { token, body, headers: { 'idempotency-key': key } });
        if (++answered >= SIGTERM_AFTER && !signalled) {
          signalled = true;
          proc.kill('SIGTERM');
        }
      } catch (err) {
        entry.error = String((err as Error & { cause?: Error }).cause ?? err);
      }
      return entry;
    };
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let n = 0; ; n++) {
          const key = `c${caller}-n${n}`;
          const intent =
            n % 3 === 2
              ? intents.read
              : { action: { type: 'environment.delete', resource: `env/prod-${key}` }, context: { environment: 'production' }, risk: { class: 'destructive' } };
          const submitted = await call('submit', key, '/v1/actions', tokens['deploy-bot']!, intent);
          if (submitted.error) return;
          if (submitted.response!.status === 201 && submitted.response!.body.status === 'pending') {
            const voted = await call('vote', `${key}-vote`, `/v1/actions/${submitted.response!.body.id}/votes`, tokens.alice!, { decision: 'approve', reason: 'checked' });
            if (voted.error) return;
          }
          if (signalled && proc.exitCode !== null) return;
        }
      }),
    );
    expect(signalled).toBe(true);
    expect(await exited, output.join('').slice(-4000)).toBe(0);

    // Every answer is a decision or a clean refusal to start one: never a server error.
    const statuses = calls.filter((c) => c.response).map((c) => c.response!.status);
    expect(statuses.filter((s) => s >= 500 && s !== 503), output.join('').slice(-4000)).toEqual([]);
    // Every call in flight when SIGTERM went out was answered, with what the service decided.
    const inFlight = calls.filter((c) => c.inFlight);
    expect(inFlight.filter((c) => c.error).map((c) => `${c.key}: ${c.error}`)).toEqual([]);
    expect(inFlight.filter((c) => c.response!.status >= 500).map((c) => `${c.key}: ${c.response!.status}`)).toEqual([]);
    // Calls sent afterwards were turned away (503 while closing, then nothing listening; a
    // keep-alive connection closed as the request went out resets it). None got half an answer:
    // the checks below find nothing stored that its caller was not told.
    for (const c of calls.filter((x) => x.error)) expect(c.error, c.key).toMatch(/ECONNREFUSED|ECONNRESET|other side closed/);

    const prisma = createPrismaClient(db.url, { max: 2 });
    cleanups.push(() => prisma.$disconnect());
    const submits = calls.filter((c) => c.kind === 'submit');
    const told = new Map(submits.filter((c) => c.response?.status === 201).map((c) => [c.response!.body.id as string, c]));
    expect(told.size).toBeGreaterThanOrEqual(SIGTERM_AFTER / 2);
    const actions = await prisma.action.findMany({ select: { id: true, status: true, idempotencyKey: true } });
    // Each action a caller was told about is stored as told; no action exists that its caller
    // never heard of (a request cut off after its commit).
    expect(actions.map((a) => a.id).sort()).toEqual([...told.keys()].sort());
    for (const a of actions) expect(a.status, a.id).toBe(told.get(a.id)!.response!.body.status);

    const artifacts = await prisma.artifact.findMany({ select: { seq: true, kind: true, actionId: true }, orderBy: { seq: 'asc' } });
    // Gapless: 1..n.
    artifacts.forEach((a, i) => expect(Number(a.seq)).toBe(i + 1));
    // Every action has the artifact of its first verdict, and every vote its own.
    const kindsOf = (id: string) => artifacts.filter((a) => a.actionId === id).map((a) => a.kind);
    for (const a of actions) expect(kindsOf(a.id).filter((k) => k === 'action.escalated' || k === 'action.decided').length, a.id).toBeGreaterThanOrEqual(1);
    const votes = await prisma.vote.findMany({ select: { actionId: true } });
    const votedOk = calls.filter((c) => c.kind === 'vote' && c.response && c.response.status < 300);
    expect(votes.length).toBe(votedOk.length);
    for (const v of votes) expect(kindsOf(v.actionId), v.actionId).toContain('vote.recorded');
  }, 300_000);
});
