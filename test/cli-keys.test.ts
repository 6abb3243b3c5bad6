import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runKeys } from '../apps/cli/src/commands/keys.ts';
import { cliFor } from './support/cli.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

async function keys(args: string[], env: Record<string, string> = {}) {
  const cli = cliFor(t, env);
  const code = await runKeys(args, cli.ctx);
  return { code, stdout: cli.out(), stderr: cli.err() };
}

describe('countersign keys', () => {
  it('creates a key shown once, lists it with last use, and revokes it', async () => {
    const created = await keys(['create', '--principal', 'deploy-bot', '--label', 'ci', '--json']);
    expect(created.code).toBe(0);
    const { token, id, prefix } = JSON.parse(created.stdout);
    expect(token).toMatch(/^cs_[a-z2-9]{10}_[A-Za-z0-9_-]{43}$/);
    // Stored hashed: the secret half appears nowhere in the database.
    const row = await t.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row)).not.toContain(token.slice(14));
    expect(row.lastUsedAt).toBeNull();

    expect((await t.api('POST', '/v1/actions', { token, body: intents.read })).status).toBe(201);
    expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).lastUsedAt).not.toBeNull();

    const list = await keys(['list']);
    expect(list.stdout).toContain(prefix);
    expect(list.stdout).toMatch(new RegExp(`${prefix}\\s+agent:deploy-bot\\s+active`));

    expect((await keys(['revoke', prefix])).code).toBe(0);
    expect((await t.api('POST', '/v1/actions', { token, body: intents.read })).status).toBe(401);
    expect((await keys(['list'])).stdout).toMatch(new RegExp(`${prefix}.*revoked`));
    const kinds = (await t.prisma.artifact.findMany({ select: { kind: true } })).map((a) => a.kind);
    expect(kinds).toContain('key.revoked');
  });

  it('never signs evidence with a key it would have to invent', async () => {
    const before = await t.prisma.artifact.count();
    const emptyKeys = path.join(t.configDir, 'no-keys-here');
    await expect(keys(['create', '--principal', 'deploy-bot'], { COUNTERSIGN_KEYS_DIR: emptyKeys })).rejects.toThrow();
    expect(await t.prisma.artifact.count()).toBe(before);
    expect(fs.existsSync(emptyKeys) && fs.readdirSync(emptyKeys).some((f) => f.endsWith('.pem'))).toBe(false);
  });

  it('refuses unknown principals and bad usage', async () => {
    await expect(keys(['create', '--principal', 'nobody'])).rejects.toThrow(/nobody/);
    expect((await keys(['create'])).code).toBe(2);
    expect((await keys(['frobnicate'])).code).toBe(2);
  });
});
