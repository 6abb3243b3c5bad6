import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type TestService } from './support/service.ts';

// The directory is re-read at vote time: a role removed from the file stops counting at once;
// a bad edit keeps the last good directory; each accepted change is sealed as evidence.
let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

async function waitFor(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('configuration at start', () => {
  it('a bad policy stops the service, naming file, line and column', async () => {
    const bad = 'version: 1\nrules:\n  - id: broken\n    when: \'action.type ==\'\n    outcome: approve\n    reason: x\n';
    // One line naming the variable that points at the file, then file:line:column.
    await expect(startTestService({ policy: bad })).rejects.toThrow(/^COUNTERSIGN_POLICY: \S*policy\.yaml:4:\d+: .*broken/);
  });
  it('a bad directory stops the service, naming file, line and column', async () => {
    const bad = 'version: 1\npeople:\n  - id: alice\n    name: A\n    email: not-an-email\n';
    await expect(startTestService({ directory: bad })).rejects.toThrow(/^COUNTERSIGN_DIRECTORY: \S*directory\.yaml:5:\d+: .*email/i);
  });
});

const EXECUTOR_RULE = (url: string) => `
  - id: held-restart
    when: 'action.type == "service.restart"'
    outcome: escalate
    reason: run by countersign once approved
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 60s
    executor:
      url: ${url}/services/{{action.resource}}/restart
      method: POST
`;

describe('executor destinations', () => {
  it('a policy whose executor points outside the allow-list is refused at start and on reload', async () => {
    const base = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/policy.yaml'), 'utf8').trimEnd() + '\n';
    await expect(
      startTestService({ policy: base + EXECUTOR_RULE('https://ops.evil.example') , env: { COUNTERSIGN_EXECUTOR_ALLOWLIST: 'https://ops.example.com/' } }),
    ).rejects.toThrow(/held-restart.*not an allowed destination/s);

    const s = await startTestService({ policy: base + EXECUTOR_RULE('https://ops.example.com'), env: { COUNTERSIGN_EXECUTOR_ALLOWLIST: 'https://ops.example.com/' } });
    try {
      const digest = () => s.service.gate.deps.config.current().policy.digest;
      const good = digest();
      fs.writeFileSync(path.join(s.configDir, 'policy.yaml'), base + EXECUTOR_RULE('https://ops.evil.example'));
      await new Promise((r) => setTimeout(r, 600));
      expect(digest()).toBe(good);
    } finally {
      await s.stop();
    }
  });
});

describe('directory reload', () => {
  it('eligibility follows the directory as it is at vote time', async () => {
    const { body: action } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.prodDelete });
    const file = path.join(t.configDir, 'directory.yaml');
    const original = fs.readFileSync(file, 'utf8');
    const digest = () => t.service.gate.deps.config.current().directory.digest;
    const before = digest();
    // Bob loses the security role.
    fs.writeFileSync(file, original.replace('roles: [security], slack: { userId: U0BOB0001 }', 'roles: [], slack: { userId: U0BOB0001 }'));
    await waitFor(async () => digest() !== before);
    // The new directory decides only once its change is sealed as evidence.
    const sealed = await t.prisma.artifact.findFirst({ where: { kind: 'config.changed', canonical: { contains: digest() } } });
    expect(sealed).not.toBeNull();
    // Without the role bob may no longer read the action either: his vote is not_found, as his GET.
    const vote = await t.api('POST', `/v1/actions/${action.id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'ok' } });
    expect(vote.status).toBe(404);
    expect(vote.body.code).toBe('not_found');
    expect((await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.bob })).status).toBe(404);
    await waitFor(async () => (await t.prisma.artifact.count({ where: { kind: 'config.changed' } })) >= 3);

    // An earlier approval stops counting when its role is revoked before the decision.
    const { body: second } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.prodDelete });
    expect((await t.api('POST', `/v1/actions/${second.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } })).status).toBe(201);
    const beforeAlice = digest();
    fs.writeFileSync(file, original.replace('{ id: alice, name: Alice, email: alice@example.com, roles: [sre-lead]', '{ id: alice, name: Alice, email: alice@example.com, roles: []'));
    await waitFor(async () => digest() !== beforeAlice);
    const judy = await t.api('POST', `/v1/actions/${second.id}/votes`, { token: t.tokens.judy, body: { decision: 'approve', reason: 'ok' } });
    expect(judy.status).toBe(201);
    expect(judy.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2, open: [{ role: 'sre-lead', count: 1 }] } });
    fs.writeFileSync(file, original);
    await waitFor(async () => digest() === beforeAlice || digest() === (before as string));

    // A broken file is rejected; the last good directory keeps deciding.
    const good = digest();
    fs.writeFileSync(file, 'version: 1\npeople: [ { id: "Bad Id" } ]\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(digest()).toBe(good);
    expect((await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.read })).status).toBe(201);

    // A principal removed from the directory can no longer authenticate.
    fs.writeFileSync(file, original.replace(/^ {2}- \{ id: owner-bot.*$/m, ''));
    await waitFor(async () => digest() !== good);
    expect((await t.api('POST', '/v1/actions', { token: t.tokens['owner-bot'], body: intents.read })).status).toBe(401);
  });
});
