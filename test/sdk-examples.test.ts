import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.ts';

// The SDK as external users get it (tsc → dist/, ESM + .d.ts, `exports` with types), and the
// two examples against the real service: they typecheck against the built package, the agent
// script runs as a process and waits for people, the downstream service verifies and redeems
// the release token before acting, and refuses a replay or a different intent.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const SDK = path.join(ROOT, 'packages', 'sdk');

let t: TestService;
beforeAll(async () => {
  await run(process.execPath, [TSC, '-p', path.join(SDK, 'tsconfig.build.json')], { cwd: ROOT });
  t = await startTestService();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('@countersign/sdk package', () => {
  it('builds to dist/ with types, and its exports resolve for an ESM consumer', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(SDK, 'package.json'), 'utf8'));
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' });
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['canonicalize', 'jose']);
    // engines says what is supported: the Node versions the project runs and tests on (≥ 20.19;
    // the SDK needs at least 20.3 for AbortSignal.any), not a bare ">=20".
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(manifest.engines).toEqual({ node: root.engines.node });
    const [, major, minor] = /^>=(\d+)\.(\d+)/.exec(manifest.engines.node) ?? [];
    expect(Number(major) > 20 || (Number(major) === 20 && Number(minor) >= 3), manifest.engines.node).toBe(true);
    expect(fs.existsSync(path.join(SDK, 'dist', 'index.d.ts'))).toBe(true);
    // Resolved through the package name, as `import … from '@countersign/sdk'` would.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import * as sdk from '@countersign/sdk'; console.log(Object.keys(sdk).sort().join(','))"], { cwd: ROOT });
    expect(stdout.trim().split(',')).toEqual(expect.arrayContaining(['Countersign', 'verifyRelease', 'createReleaseVerifier', 'verifyWebhook', 'RefusedError', 'ExpiredError', 'CancelledError', 'TimeoutError', 'currentRelease']));
    const js = fs.readFileSync(path.join(SDK, 'dist', 'client.js'), 'utf8');
    expect(js).not.toMatch(/from '\.\/[a-z-]+\.ts'/);
  });

  it('the examples typecheck against the built package', async () => {
    await expect(run(process.execPath, [TSC, '-p', path.join(ROOT, 'examples', 'tsconfig.json')], { cwd: ROOT })).resolves.toBeDefined();
  }, 60_000);
});

describe('examples against the real service', () => {
  it('the agent waits for two approvals; the downstream verifies, redeems and acts once', async () => {
    const { createDownstreamService } = await import('../examples/downstream-service.ts');
    const { deletionIntent } = await import('../examples/agent-delete-environment.ts');
    const { Countersign, createReleaseVerifier } = await import('@countersign/sdk');
    const deleted: string[] = [];
    const server = createDownstreamService({
      countersign: new Countersign({ baseUrl: t.url, apiKey: t.tokens.grace! }),
      verifier: createReleaseVerifier({ jwksUrl: `${t.url}/.well-known/jwks.json`, audience: 'countersign-release' }),
      deleteEnvironment: async (env: string) => void deleted.push(env),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const downstreamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // The agent script, as a user runs it.
      const agent = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples', 'agent-delete-environment.ts'), 'env/prod-example'], {
        cwd: ROOT,
        env: { ...process.env, CS: t.url, AGENT: t.tokens['deploy-bot']!, DOWNSTREAM_URL: downstreamUrl },
      });
      let output = '';
      agent.stdout.on('data', (d) => (output += d));
      agent.stderr.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));

      await expect.poll(() => /waiting for approval of (act_[a-z0-9]{20})/.exec(output)?.[1], { timeout: 20_000 }).toBeDefined();
      const id = /waiting for approval of (act_[a-z0-9]{20})/.exec(output)![1]!;
      expect(deleted).toEqual([]);
      for (const who of ['alice', 'bob']) {
        const res = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who], body: { decision: 'approve', reason: 'checked' } });
        expect(res.status, res.text).toBe(201);
      }
      expect(await exited, output).toBe(0);
      expect(output).toContain(`done: {"deleted":"env/prod-example","actionId":"${id}"}`);
      expect(deleted).toEqual(['env/prod-example']);

      // Reading the approved action again mints a fresh token: still one execution per approval.
      const token = (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.releaseToken as string;
      const post = (intent: unknown, releaseToken?: string) =>
        fetch(`${downstreamUrl}/environments/delete`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(releaseToken ? { 'countersign-release-token': releaseToken } : {}) },
          body: JSON.stringify({ intent }),
        });
      const other = await post(deletionIntent('env/prod-other'), token);
      expect(other.status).toBe(403);
      expect(await other.json()).toMatchObject({ reason: 'intent_mismatch' });
      expect((await post(deletionIntent('env/prod-example'))).status).toBe(401);
      const replay = await post(deletionIntent('env/prod-example'), token);
      expect(replay.status).toBe(409);
      // A body that is not a JSON object is the caller's mistake: 400 saying so, not a 500
      // carrying the parser's message.
      for (const body of ['not json{', 'null', '[1]']) {
        const bad = await fetch(`${downstreamUrl}/environments/delete`, { method: 'POST', headers: { 'content-type': 'application/json', 'countersign-release-token': token }, body });
        expect(bad.status, body).toBe(400);
        expect(await bad.json()).toEqual({ error: 'the request body must be JSON: { "intent": { … } }' });
      }
      expect(deleted).toEqual(['env/prod-example']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});
