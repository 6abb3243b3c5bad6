import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyringFromPem, privateKeyPem, verifyExport } from '@countersign/evidence';
import { intents, startTestService, type TestService } from './support/service.ts';

// Exactly one final decision under concurrency: two service instances (separate connection
// pools, as two processes would have) share one database; every action gets simultaneous
// approvals, denies and a cancel, and must end in exactly one final state with one decision
// artifact and an intact chain.

let a: TestService;
let b: TestService;
beforeAll(async () => {
  a = await startTestService();
  // Same database and same signing key; its own pool, listener and HTTP server.
  const pem = privateKeyPem(a.service.keyring.active);
  b = await startTestService({ databaseUrl: a.databaseUrl, env: { COUNTERSIGN_SIGNING_KEY: pem } });
  expect(keyringFromPem(pem, 'test').active.keyId).toBe(a.service.keyring.active.keyId);
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe('exactly one final decision', () => {
  it('survives simultaneous votes and cancels from several connections', async () => {
    const N = 30;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await a.api('POST', '/v1/actions', { token: a.tokens['deploy-bot'], body: intents.prodDelete });
      ids.push(res.body.id);
    }
    const statuses = await Promise.all(
      ids.map(async (id, i) => {
        const svc = (n: number) => ((i + n) % 2 === 0 ? a : b);
        const calls = [
          svc(0).api('POST', `/v1/actions/${id}/votes`, { token: svc(0).tokens.alice, body: { decision: 'approve', reason: 'ok' } }),
          svc(1).api('POST', `/v1/actions/${id}/votes`, { token: svc(1).tokens.bob, body: { decision: 'approve', reason: 'ok' } }),
          svc(0).api('POST', `/v1/actions/${id}/votes`, { token: svc(0).tokens.carol, body: { decision: 'approve', reason: 'ok' } }),
          svc(1).api('POST', `/v1/actions/${id}/votes`, { token: svc(1).tokens.judy, body: { decision: i % 3 === 0 ? 'deny' : 'approve', reason: 'no' } }),
          svc(0).api('POST', `/v1/actions/${id}/votes`, { token: svc(0).tokens.alice, body: { decision: 'approve', reason: 'double click' } }),
          svc(1).api('POST', `/v1/actions/${id}/cancel`, { token: svc(1).tokens['deploy-bot'], body: {} }),
        ];
        const results = await Promise.all(calls);
        for (const r of results) expect([200, 201, 403, 409]).toContain(r.status);
        const final = await a.api('GET', `/v1/actions/${id}`, { token: a.tokens['deploy-bot'] });
        return final.body.status as string;
      }),
    );
    expect(statuses.every((s) => ['approved', 'refused', 'cancelled'].includes(s))).toBe(true);

    const prisma = a.prisma;
    for (const id of ids) {
      const decided = await prisma.artifact.findMany({ where: { actionId: id, kind: 'action.decided' } });
      expect(decided).toHaveLength(1);
      const action = await prisma.action.findUniqueOrThrow({ where: { id } });
      expect(JSON.parse(decided[0]!.canonical).event.status).toBe(action.status);
      // No vote is recorded after the decision.
      const votes = await prisma.vote.findMany({ where: { actionId: id } });
      expect(votes.every((v) => v.createdAt <= action.decidedAt!)).toBe(true);
      expect(new Set(votes.map((v) => v.personId)).size).toBe(votes.length);
    }

    const grace = await a.api('GET', '/v1/audit/export', { token: a.tokens.grace });
    expect(grace.status).toBe(200);
    const report = await verifyExport(grace.text.trim().split('\n'), a.service.keyring.publicKeys());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(await prisma.artifact.count());
  }, 120_000);
});
