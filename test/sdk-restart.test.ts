import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Countersign, verifyRelease, type Action, type IntentInput } from '../packages/sdk/src/index.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// An agent waiting for people must not notice the server restarting: its long-poll drops, it
// reconnects (connection refused meanwhile) and resolves when the new process sees the votes.

let db: TestDatabase | undefined;
const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-sdk-restart-'));
const running: TestService[] = [];

afterAll(async () => {
  for (const t of running) await t.service.stop().catch(() => undefined);
  await db?.drop();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

describe('waitForDecision across a server restart', () => {
  it('keeps waiting through the restart and resolves with the decision made on the new process', async () => {
    db = await freshDatabase();
    const first = await startTestService({ databaseUrl: db.url, keysDir });
    running.push(first);
    const port = new URL(first.url).port;
    const cs = new Countersign({ baseUrl: first.url, apiKey: first.tokens['deploy-bot']!, backoff: { baseMs: 50, maxMs: 400 } });

    const intent = { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/restart' } } as IntentInput;
    let pending: Action | undefined;
    const authorized = cs.authorize(intent, { onPending: (a) => (pending = a), pollSeconds: 30 });
    await expect.poll(() => pending?.id).toMatch(/^act_/);
    await new Promise((r) => setTimeout(r, 300)); // the long-poll is now parked on the first process

    await first.service.stop();
    running.splice(running.indexOf(first), 1);
    // Down for a while: the SDK's reconnects are refused.
    await new Promise((r) => setTimeout(r, 1_000));
    let settled = false;
    void authorized.then(() => (settled = true), () => (settled = true));
    expect(settled).toBe(false);

    const second = await startTestService({ databaseUrl: db.url, keysDir, env: { PORT: port } });
    running.push(second);
    expect(second.url).toBe(first.url);
    for (const who of ['alice', 'bob']) {
      const res = await second.api('POST', `/v1/actions/${pending!.id}/votes`, { token: second.tokens[who], body: { decision: 'approve', reason: 'ok' } });
      expect(res.status, res.text).toBe(201);
    }

    const { action, releaseToken } = await authorized;
    expect(action).toMatchObject({ id: pending!.id, status: 'approved' });
    // Same keys folder: the token verifies against the new process's JWKS.
    await verifyRelease(releaseToken, { jwksUrl: `${second.url}/.well-known/jwks.json`, audience: 'countersign-release', intent });
  });
});
