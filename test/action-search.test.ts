import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as actionsCommand } from '../apps/cli/src/commands/actions.ts';
import { cliFor } from './support/cli.ts';
import { CONSOLE_DIRECTORY, submitProdDelete } from './support/console.ts';
import { startTestService, type TestService } from './support/service.ts';

// The read API: GET /v1/actions with the list's filters and cursor pages, awaiting=me by the
// vote's own checks, the action view with intent, progress and timeline, and the CLI on it.

const POLICY = `version: 1
rules:
  - id: prod-delete
    when: 'action.type == "environment.delete" && context.environment == "production"'
    outcome: escalate
    reason: production deletion needs an SRE lead and security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      redact: [params.token, justification]
  - id: secret-environment
    when: 'action.type == "vault.rotate"'
    outcome: escalate
    reason: rotating a vault needs the CTO
    requirement:
      approvers: [{ role: cto, count: 1 }]
      expiresIn: 30m
      redact: [context.environment]
  - id: reads
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: reads are fine
`;

let t: TestService;
const ids: string[] = [];

beforeAll(async () => {
  t = await startTestService({ policy: POLICY, directory: CONSOLE_DIRECTORY, env: { COUNTERSIGN_AUDIT_UNREDACTED_ROLES: 'cto' } });
  for (let i = 0; i < 5; i++) {
    ids.push(await submitProdDelete(t, { action: { type: 'environment.delete', resource: `env/prod-${i}`, params: { token: 'secret' } } }));
  }
  await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'db.query', resource: 'orders' }, risk: { class: 'read' } } });
}, 60_000);

afterAll(() => t.stop());

const list = (who: string, query = '') => t.api('GET', `/v1/actions${query}`, { token: t.tokens[who] });

describe('GET /v1/actions', () => {
  it('pages through a stable order with a cursor, limit at most 200', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await list('deploy-bot', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((a: { id: string }) => a.id));
      if (!page.body.nextCursor) break;
      cursor = encodeURIComponent(page.body.nextCursor);
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(seen.slice(1)).toEqual(expect.arrayContaining([...ids].reverse()));
    expect((await list('deploy-bot', '?limit=201')).body).toMatchObject({ code: 'invalid_request', errors: [{ field: 'limit' }] });
    expect((await list('deploy-bot', '?cursor=nonsense')).body).toMatchObject({ code: 'invalid_request', errors: [{ field: 'cursor' }] });
  });

  it('filters by type, resource prefix, status, risk and environment', async () => {
    const r = await list('deploy-bot', '?actionType=environment.delete&resource=env%2Fprod-3&status=pending&riskClass=destructive&environment=production');
    expect(r.body.items.map((a: { id: string }) => a.id)).toEqual([ids[3]]);
    expect(r.body.items[0]).toMatchObject({ resource: 'env/prod-3', risk: { class: 'destructive', urgency: 'high' }, progress: { filled: 0, needed: 2 } });
    expect((await list('deploy-bot', '?status=approved,refused')).body.items).toHaveLength(1);
  });

  it('awaiting=me lists what the caller can still approve, by the same checks as a vote', async () => {
    await t.api('POST', `/v1/actions/${ids[0]}/votes`, { token: t.tokens.carol, body: { decision: 'approve', reason: 'ok' } });
    const carol = (await list('carol', '?awaiting=me')).body.items.map((a: { id: string }) => a.id);
    expect(carol).not.toContain(ids[0]); // one slot per person, one vote per person
    expect(carol).toEqual(expect.arrayContaining(ids.slice(1)));
    // alice (sre-lead) cannot take the slot carol already fills; bob (security) can.
    const alice = (await list('alice', '?awaiting=me')).body.items.map((a: { id: string }) => a.id);
    const bob = (await list('bob', '?awaiting=me')).body.items.map((a: { id: string }) => a.id);
    expect(bob).toContain(ids[0]);
    expect(alice).toEqual(expect.arrayContaining(ids.slice(1)));
    expect(alice).toContain(ids[0]); // carol took sre-lead or security: the matching keeps both open to others until needed
    expect((await list('erin', '?awaiting=me')).body.items).toEqual([]); // erin owns the agent: self-approval
    expect((await list('grace', '?awaiting=me')).body.items).toEqual([]); // an auditor decides nothing
    expect((await list('deploy-bot', '?awaiting=me')).body.items).toEqual([]); // agents never vote
  });

  it('readers: parties as before, auditors everything; voter and decided-by filters', async () => {
    expect((await list('dave')).body.items).toHaveLength(0);
    expect((await list('grace')).body.items).toHaveLength(6);
    expect((await list('grace', '?voter=carol')).body.items.map((a: { id: string }) => a.id)).toEqual([ids[0]]);
    // What countersign decided itself is found under its own names (reserved as directory ids).
    const byPolicy = await list('grace', '?decidedBy=policy');
    expect(byPolicy.status, byPolicy.text).toBe(200);
    expect(byPolicy.body.items).toHaveLength(1);
    expect(byPolicy.body.items[0]).toMatchObject({ status: 'approved', decidedBy: 'policy' });
    expect((await list('grace', '?decidedBy=system')).status).toBe(200);
  });
});

describe('GET /v1/actions/:id', () => {
  it('carries the intent redacted as approvers see it, who can still decide and the timeline with artifact seqs', async () => {
    const r = await t.api('GET', `/v1/actions/${ids[0]}`, { token: t.tokens.bob });
    expect(r.body.intent.action.params).toEqual({ token: '[redacted]' });
    expect(r.body.intent.justification).toBe('[redacted]');
    expect(r.body.redacted).toEqual(['params.token', 'justification']);
    expect(r.body.canStillDecide).toContain('bob');
    expect(r.body.canStillDecide).not.toContain('carol');
    expect(r.body.timeline).toEqual([
      expect.objectContaining({ kind: 'submitted', by: 'deploy-bot', seq: expect.any(Number) }),
      expect.objectContaining({ kind: 'vote', by: 'carol', channel: 'api', seq: expect.any(Number) }),
    ]);
    // An auditor reads it too, redacted (COUNTERSIGN_AUDIT_UNREDACTED_ROLES would lift it for a role).
    expect((await t.api('GET', `/v1/actions/${ids[0]}`, { token: t.tokens.grace })).body.intent.action.params).toEqual({ token: '[redacted]' });
  });
});

describe('countersign actions', () => {
  it('lists, shows and votes over HTTP with a person key', async () => {
    const cli = cliFor(t, { CS: t.url, COUNTERSIGN_TOKEN: t.tokens.bob! });
    expect(await actionsCommand(['list', '--awaiting-me'], cli.ctx)).toBe(0);
    expect(cli.out()).toContain(ids[0]);
    expect(await actionsCommand(['show', ids[0]!], cli.ctx)).toBe(0);
    expect(cli.out()).toMatch(/requirement: 1 of 2[\s\S]*vote\s+carol approved via api/);
    expect(await actionsCommand(['vote', ids[0]!, 'approve', '--reason', 'checked'], cli.ctx)).toBe(0);
    expect(cli.out()).toMatch(/recorded: approve \(artifact #\d+\); the action is approved/);
    const erin = cliFor(t, { CS: t.url, COUNTERSIGN_TOKEN: t.tokens.erin! });
    expect(await actionsCommand(['vote', ids[1]!, 'approve'], erin.ctx)).toBe(1);
    expect(erin.err()).toMatch(/403 self_approval/);
    expect(await actionsCommand(['frobnicate'], erin.ctx)).toBe(2);
  });
});

describe('a filter on a field a rule redacts', () => {
  it('matches only what the reader sees: trying values one by one does not read a redacted environment', async () => {
    const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'vault.rotate', resource: 'vault/payments' }, context: { environment: 'blue-secret' } } });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const ids = async (who: string, query: string) => (await list(who, query)).body.items.map((a: { id: string }) => a.id);
    // grace (auditor) and deploy-bot (the requester) read it redacted; dave (cto) decides it, unredacted.
    for (const who of ['grace', 'deploy-bot']) {
      expect(await ids(who, '?actionType=vault.rotate'), who).toEqual([id]);
      expect((await list(who, '?actionType=vault.rotate')).body.items[0].environment, who).toBe('[redacted]');
      expect(await ids(who, '?environment=blue-secret'), who).toEqual([]);
      expect(await ids(who, '?environment=green-secret'), who).toEqual([]);
    }
    expect(await ids('dave', '?environment=blue-secret')).toEqual([id]);
    expect(await ids('dave', '?environment=green-secret')).toEqual([]);
    // What the environment filter chooses for an auditor's export: the same as the list.
    const exported = await t.api('GET', '/v1/audit/export?environment=blue-secret', { token: t.tokens.grace });
    expect(exported.status).toBe(200);
    expect(exported.text).not.toContain(id);
  });
});
