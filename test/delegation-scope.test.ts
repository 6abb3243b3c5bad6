import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as runKeys } from '../apps/cli/src/commands/keys.ts';
import { cliFor } from './support/cli.ts';
import { setDirectory } from './support/directory-file.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Delegation cannot be used against approvers: a delegate key names whom it may act for
// (people ids or role:<role>, read from the directory at each submission), and naming anyone
// else is refused with 403 delegation_not_allowed on the onBehalfOf field.

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/directory.yaml'), 'utf8');
const FRANK = '  - { id: frank, name: Frank, email: frank@example.com, roles: [finance-approver] }\n';
/** The id "frank" given to someone else (another mailbox). */
const FRANK_NEWCOMER = '  - { id: frank, name: Frank Newcomer, email: frank.newcomer@example.com, roles: [finance-approver] }\n';

let t: TestService;
beforeAll(async () => {
  expect(FIXTURE).toContain(FRANK);
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

async function keys(args: string[]) {
  const cli = cliFor(t, {});
  const code = await runKeys(args, cli.ctx);
  return { code, stdout: cli.out(), stderr: cli.err() };
}


/** A delegate key for `scope` as one made before scopes were bound looks (no bindings). */
async function keyBeforeBindings(scope: string): Promise<{ token: string; id: string }> {
  const created = await keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', scope, '--json']);
  expect(created.code, created.stderr).toBe(0);
  const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
  await t.prisma.apiKey.update({ where: { id }, data: { delegateBindings: [] } });
  return { token, id };
}

const submitFor = (token: string, onBehalfOf: string) => t.api('POST', '/v1/actions', { token, body: { ...intents.read, onBehalfOf } });

describe('delegation scope', () => {
  it('acts for the people and roles the key names, and for nobody else', async () => {
    const created = await keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', 'alice,role:finance-approver', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token, id, delegateFor } = JSON.parse(created.stdout);
    expect(delegateFor).toEqual(['alice', 'role:finance-approver']);
    expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).delegateFor).toEqual(['alice', 'role:finance-approver']);
    const sealed = await t.prisma.artifact.findFirstOrThrow({ where: { kind: 'key.created' }, orderBy: { seq: 'desc' } });
    expect(JSON.parse(sealed.canonical)).toMatchObject({ event: { kind: 'key.created', keyId: id, delegateFor: ['alice', 'role:finance-approver'] } });

    const forAlice = await submitFor(token, 'alice');
    expect(forAlice.status, forAlice.text).toBe(201);

    // bob is a security approver outside the scope: naming him would make him the requester
    // (disqualified from approving) and put the agent's words in a DM to him.
    const forBob = await submitFor(token, 'bob');
    expect(forBob.status).toBe(403);
    expect(forBob.body.code).toBe('delegation_not_allowed');
    expect(forBob.body.errors).toEqual([{ field: 'onBehalfOf', message: expect.stringContaining('outside') }]);

    // frank holds the role: allowed, until the directory takes the role away.
    expect((await submitFor(token, 'frank')).status).toBe(201);
    await setDirectory(t, FIXTURE.replace(FRANK, '  - { id: frank, name: Frank, email: frank@example.com, roles: [] }\n'));
    try {
      const after = await submitFor(token, 'frank');
      expect(after.status).toBe(403);
      expect(after.body.code).toBe('delegation_not_allowed');
    } finally {
      await setDirectory(t, FIXTURE);
    }
    expect((await submitFor(token, 'frank')).status).toBe(201);
  });

  it('acts for the person the key was made for: an id the directory gives to someone else is refused', async () => {
    const created = await keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', 'frank', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout);
    expect((await submitFor(token, 'frank')).status).toBe(201);
    // The id "frank" now belongs to a newcomer (another mailbox): not the person delegated.
    await setDirectory(t, FIXTURE.replace(FRANK, FRANK_NEWCOMER));
    try {
      const after = await submitFor(token, 'frank');
      expect(after.status).toBe(403);
      expect(after.body.code).toBe('delegation_not_allowed');
      expect(after.body.errors).toEqual([{ field: 'onBehalfOf', message: expect.stringContaining('no longer the person') }]);
    } finally {
      await setDirectory(t, FIXTURE);
    }
    expect((await submitFor(token, 'frank')).status).toBe(201);
  });

  /** A newcomer given frank's id: the key, bound to frank, may not act for them. */
  async function refusedForFranksNewcomer(token: string): Promise<void> {
    await setDirectory(t, FIXTURE.replace(FRANK, FRANK_NEWCOMER));
    const after = await submitFor(token, 'frank');
    expect(after.status).toBe(403);
    expect(after.body.code).toBe('delegation_not_allowed');
  }

  it('a delegate key made before scopes were bound is bound at its first use, to the people its scope names then', async () => {
    const { token, id } = await keyBeforeBindings('frank');
    expect((await submitFor(token, 'frank')).status).toBe(201);
    expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).delegateBindings).toEqual([expect.stringMatching(/^frank=[0-9a-f]{64}$/)]);
    try {
      await refusedForFranksNewcomer(token);
    } finally {
      await setDirectory(t, FIXTURE);
    }
  });

  it('bound at first use while a person of its scope is away: whoever is given the id later is not them', async () => {
    const { token, id } = await keyBeforeBindings('frank,alice');
    await setDirectory(t, FIXTURE.replace(FRANK, ''));
    try {
      expect((await submitFor(token, 'alice')).status).toBe(201);
      expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id } })).delegateBindings).toEqual(['frank=absent', expect.stringMatching(/^alice=[0-9a-f]{64}$/)]);
      await refusedForFranksNewcomer(token);
    } finally {
      await setDirectory(t, FIXTURE);
    }
  });

  it('refuses a delegate key from before scopes (empty scope) for everyone', async () => {
    const created = await keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', 'alice', '--json']);
    const { token, id } = JSON.parse(created.stdout);
    // What a key created before the delegation_scope migration looks like: may delegate, names nobody.
    await t.prisma.apiKey.update({ where: { id }, data: { delegateFor: [] } });
    const res = await submitFor(token, 'alice');
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([{ field: 'onBehalfOf', message: expect.stringContaining('re-issue it with --for') }]);
    expect((await keys(['list'])).stdout).toMatch(/for \(nobody: re-issue with --for\)/);
  });

  it('the CLI requires --for with --delegate and parses it strictly', async () => {
    const before = await t.prisma.apiKey.count();
    for (const args of [
      ['--delegate'],
      ['--for', 'alice'],
      ['--delegate', '--for', ''],
      ['--delegate', '--for', 'alice,,bob'],
      ['--delegate', '--for', 'role:'],
    ]) {
      const res = await keys(['create', '--principal', 'deploy-bot', ...args]);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(/--for|empty entry/);
    }
    await expect(keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', 'alice,mallory'])).rejects.toThrow(/mallory/);
    expect(await t.prisma.apiKey.count()).toBe(before);
    const ok = await keys(['create', '--principal', 'deploy-bot', '--delegate', '--for', ' alice , role:finance-approver']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('may act for alice, role:finance-approver');
  });
});
