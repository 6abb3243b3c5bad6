import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyExport } from '@countersign/evidence';
import { ownerUrlOf } from './support/database.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// A migration that adds columns while the service runs (a rolling deploy applies the new
// release's migration before the old processes have stopped). The service's statements are
// prepared per connection (packages/db/src/prepared-statements.ts) and several read `*`:
// Postgres then answers "cached plan must not change result type" once per stale statement.
// Every request must still get its answer, each action exactly one decision, the chain must
// verify, and the metrics count each decision once (the transaction that met the stale
// statement runs again, whole).

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

const submit = () => t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
const vote = (id: string, who: string) => t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who]!, body: { decision: 'approve', reason: 'ok' } });
const decisions = async () => {
  const text = (await t.api('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith('countersign_time_to_decision_seconds_count{outcome="approved"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

/** Escalates, approves with two votes, waits: every answer as it should be. */
async function escalateAndApprove(): Promise<string> {
  const created = await submit();
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await vote(id, 'alice')).status).toBe(201);
  const second = await vote(id, 'bob');
  expect(second.status).toBe(201);
  const read = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot']! });
  expect(read.status).toBe(200);
  expect(read.body.status).toBe('approved');
  return id;
}

describe('a migration while the service runs', () => {
  it('adding columns under the prepared statements: no request fails, one decision each, the chain verifies', async () => {
    // Warm up: every statement of the path prepared on the pool's connections, past the
    // five custom plans after which Postgres caches a generic one.
    for (let i = 0; i < 8; i++) await escalateAndApprove();
    const before = await decisions();

    const owner = new pg.Client({ connectionString: ownerUrlOf(t.databaseUrl) });
    await owner.connect();
    try {
      await owner.query(`ALTER TABLE "Action" ADD COLUMN "migrationProbe" text`);
      await owner.query(`ALTER TABLE "Vote" ADD COLUMN "migrationProbe" text`);
      await owner.query(`ALTER TABLE "ApiKey" ADD COLUMN "migrationProbe" text`);
    } finally {
      await owner.end();
    }

    // Concurrently, so several pooled connections meet their stale statements at once.
    const ids = await Promise.all(Array.from({ length: 6 }, () => escalateAndApprove()));
    expect(await decisions()).toBe(before + 6);

    for (const id of ids) {
      const decided = await t.prisma.artifact.findMany({ where: { actionId: id, kind: 'action.decided' } });
      expect(decided).toHaveLength(1);
      expect(await t.prisma.vote.count({ where: { actionId: id } })).toBe(2);
    }
    const grace = await t.api('GET', '/v1/audit/export', { token: t.tokens.grace });
    expect(grace.status).toBe(200);
    const report = await verifyExport(grace.text.trim().split('\n'), t.service.keyring.publicKeys());
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(await t.prisma.artifact.count());
  }, 60_000);
});
