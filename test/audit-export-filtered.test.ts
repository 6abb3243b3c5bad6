import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvRecord, toCsvRow, verifyExport } from '@countersign/evidence';
import { run as verifyCommand } from '../apps/cli/src/commands/verify.ts';
import { cliFor } from './support/cli.ts';
import { CONSOLE_DIRECTORY, submitProdDelete } from './support/console.ts';
import { startTestService, type TestService } from './support/service.ts';

// GET /v1/audit/export with the list's filters: a selection of actions whose records say what
// was approved (redacted as the auditor reads it), in JSONL and in CSV with real columns, that
// `countersign verify` accepts and that cannot lose, gain or reorder a record unnoticed.

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
  - id: reads
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: reads are fine
`;
// frank audits with a role allowed unredacted reads.
const DIRECTORY = CONSOLE_DIRECTORY.replace('agents:', '  - { id: frank, name: Frank Weber, email: frank@example.com, roles: [auditor, audit-full] }\nagents:');

let t: TestService;
let eu1: string;
let eu2: string;
let us1: string;

const del = (resource: string) => ({ action: { type: 'environment.delete', resource, summary: `Delete ${resource}`, params: { token: 'secret', region: resource.slice(9, 11) } } });
const vote = (id: string, who: string, decision: 'approve' | 'deny') =>
  t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who], body: { decision, reason: `${who} says ${decision}` } });
const exportOf = async (query: string, who = 'grace'): Promise<string> => {
  const res = await t.api('GET', `/v1/audit/export?${query}`, { token: t.tokens[who] });
  expect(res.status, res.text).toBe(200);
  return res.text;
};
const lines = (text: string) => text.trimEnd().split('\n');
const verify = (ls: string[]) => verifyExport(ls, t.service.keyring.publicKeys());

async function verifyFile(ls: string[], name: string): Promise<{ code: number; out: string }> {
  const file = path.join(t.configDir, name);
  fs.writeFileSync(file, ls.join('\n') + '\n');
  const cli = cliFor(t);
  const code = await verifyCommand([file, '--key', `${t.url}/.well-known/jwks.json`], cli.ctx);
  return { code, out: cli.out() };
}

beforeAll(async () => {
  t = await startTestService({ policy: POLICY, directory: DIRECTORY, env: { COUNTERSIGN_AUDIT_UNREDACTED_ROLES: 'audit-full' } });
  // Interleaved so that a selection of one region has gaps in seq.
  eu1 = await submitProdDelete(t, del('env/prod-eu-1'));
  us1 = await submitProdDelete(t, del('env/prod-us-1'));
  eu2 = await submitProdDelete(t, del('env/prod-eu-2'));
  await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'db.query', resource: 'orders' }, risk: { class: 'read' } } });
  await vote(eu1, 'alice', 'approve');
  await vote(us1, 'alice', 'approve');
  await vote(eu1, 'bob', 'approve');
  await vote(eu2, 'bob', 'deny');
  await vote(us1, 'judy', 'approve');
}, 120_000);

afterAll(() => t?.stop());

type Rec = { seq: number; kind: string; actionId: string | null; canonical: string; subject?: { type: string; resource: string; summary: string; params: Record<string, unknown> } };
const records = (text: string): Rec[] => lines(text).map((l) => JSON.parse(l)).filter((r) => !('type' in r));

describe('a filtered export (a selection)', () => {
  it('holds exactly the matching actions’ artifacts, each saying what was approved, redacted; verify accepts it', async () => {
    const text = await exportOf('resource=env%2Fprod-eu&format=jsonl');
    const recs = records(text);
    const expected = await t.prisma.artifact.findMany({ where: { actionId: { in: [eu1, eu2] } }, orderBy: { seq: 'asc' }, select: { seq: true } });
    expect(recs.map((r) => r.seq)).toEqual(expected.map((a) => Number(a.seq)));
    const seqs = recs.map((r) => r.seq);
    expect(seqs.some((s, i) => i > 0 && s !== seqs[i - 1]! + 1)).toBe(true); // gaps by design
    expect(recs.find((r) => r.actionId === eu1)?.subject).toEqual({
      type: 'environment.delete',
      resource: 'env/prod-eu-1',
      summary: 'Delete env/prod-eu-1',
      params: { token: '[redacted]', region: 'eu' },
    });

    const report = await verify(lines(text));
    expect(report).toMatchObject({ ok: true, records: recs.length, annotated: recs.length });
    expect(report.trailer?.selection?.filter).toEqual({ resource: 'env/prod-eu' });

    const cli = await verifyFile(lines(text), 'eu.jsonl');
    expect(cli.code).toBe(0);
    expect(cli.out).toMatch(/^OK: \d+ records/);
    expect(cli.out).toMatch(/selection: the actions matching resource=env\/prod-eu; seq gaps are by design/);
    expect(cli.out).toMatch(/annotation no signature covers: ignored by verify/);
  });

  it('takes every list filter, with the list’s problem codes for bad input', async () => {
    const refused = records(await exportOf('status=refused&actionType=environment.delete'));
    expect(new Set(refused.map((r) => r.actionId))).toEqual(new Set([eu2]));
    const byAlice = records(await exportOf('voter=alice'));
    expect(new Set(byAlice.map((r) => r.actionId))).toEqual(new Set([eu1, us1]));
    expect((await verify(lines(await exportOf('voter=alice')))).ok).toBe(true);
    const none = await exportOf('resource=env%2Fnowhere');
    expect(records(none)).toEqual([]);
    expect(await verify(lines(none))).toMatchObject({ ok: true, records: 0 });

    const bad = await t.api('GET', '/v1/audit/export?status=approvedd&format=csv', { token: t.tokens.grace });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalid_request', errors: [{ field: 'status.0' }] });
    expect((await t.api('GET', '/v1/audit/export?limit=5', { token: t.tokens.grace })).body).toMatchObject({ code: 'invalid_request' });
    expect((await t.api('GET', '/v1/audit/export?resource=env', { token: t.tokens.alice })).status).toBe(403);
  });

  it('is unredacted for an auditor whose role allows it (COUNTERSIGN_AUDIT_UNREDACTED_ROLES)', async () => {
    const recs = records(await exportOf('resource=env%2Fprod-eu-1', 'frank'));
    expect(recs[0]?.subject?.params).toEqual({ token: 'secret', region: 'eu' });
  });

  it('in CSV has real columns, verifies, and refuses an edited signed column but not an edited annotation', async () => {
    const text = await exportOf('resource=env%2Fprod-eu&format=csv');
    const rows = lines(text.replaceAll('\r\n', '\n'));
    const header = parseCsvRecord(rows[0]!)!;
    expect(header).toEqual(expect.arrayContaining(['seq', 'at', 'kind', 'actionId', 'actionType', 'actor', 'decision', 'reason', 'resource', 'summary', 'params', 'canonical']));
    const cells = rows.slice(1, -1).map((r) => Object.fromEntries(parseCsvRecord(r)!.map((v, i) => [header[i], v])));
    const denial = cells.find((c) => c.kind === 'vote.recorded' && c.actionId === eu2)!;
    expect(denial).toMatchObject({ actor: 'bob', decision: 'deny', reason: 'bob says deny', actionType: 'environment.delete', resource: 'env/prod-eu-2', summary: 'Delete env/prod-eu-2' });
    expect(JSON.parse(denial.params!)).toEqual({ token: '[redacted]', region: 'eu' });
    expect(cells.find((c) => c.kind === 'action.decided' && c.actionId === eu1)).toMatchObject({ decision: 'approved', actor: 'bob' });
    expect(await verify(rows)).toMatchObject({ ok: true, format: 'csv', records: cells.length });

    const i = rows.findIndex((r) => r.includes('bob says deny'));
    const edit = (column: string, value: string) => {
      const fields = parseCsvRecord(rows[i]!)!;
      fields[header.indexOf(column)] = value;
      return rows.map((r, j) => (j === i ? toCsvRow(fields) : r));
    };
    expect((await verify(edit('decision', 'approve'))).problems[0]).toMatchObject({ line: i + 1, code: 'field_mismatch' });
    expect((await verify(edit('resource', 'env/somewhere-else'))).ok).toBe(true);
  });

  describe('tampered after download', () => {
    let good: string[];
    beforeAll(async () => {
      good = lines(await exportOf('resource=env%2Fprod-eu'));
    });

    it('a removed record is caught by the trailer’s count and digest', async () => {
      const removed = good.filter((_, j) => j !== 2);
      expect((await verify(removed)).problems[0]).toMatchObject({ code: 'trailer_mismatch' });
      const cli = await verifyFile(removed, 'removed.jsonl');
      expect(cli.code).toBe(1);
      expect(cli.out).toMatch(/^FAILED: .*trailer_mismatch/);
    });

    it('a record from outside the selection, though validly signed, is caught', async () => {
      const full = lines(await exportOf(''));
      const outsider = full.find((l) => l.includes(us1))!;
      const seq = (JSON.parse(outsider) as Rec).seq;
      const at = good.findIndex((l) => !('type' in JSON.parse(l)) && (JSON.parse(l) as Rec).seq > seq);
      expect(at).toBeGreaterThan(0);
      const added = [...good.slice(0, at), outsider, ...good.slice(at)];
      expect((await verify(added)).problems[0]).toMatchObject({ code: 'trailer_mismatch' });
    });

    it('a reordered record is caught', async () => {
      const swapped = [...good];
      [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
      expect((await verify(swapped)).problems[0]).toMatchObject({ line: 3, code: 'seq_order' });
    });

    it('a changed signed field is caught; a changed annotation is ignored, and verify says so', async () => {
      const rec = JSON.parse(good[1]!) as Rec;
      const signed = good.map((l, j) => (j === 1 ? JSON.stringify({ ...rec, canonical: rec.canonical.replace('"environment.delete"', '"environment.keep"') }) : l));
      expect((await verify(signed)).problems[0]).toMatchObject({ line: 2, code: 'hash_mismatch' });

      const annotation = good.map((l, j) => (j === 1 ? JSON.stringify({ ...rec, subject: { ...rec.subject, resource: 'env/prod-xx-9' } }) : l));
      const cli = await verifyFile(annotation, 'annotation.jsonl');
      expect(cli.code).toBe(0);
      expect(cli.out).toMatch(/ignored by verify, not evidence/);
    });
  });
});

describe('an unfiltered export', () => {
  it('is the whole gapless chain, annotated, with a trailer that claims no selection; a removed record is a gap', async () => {
    const text = await exportOf('format=jsonl');
    const recs = records(text);
    expect(recs.map((r) => r.seq)).toEqual(recs.map((_, i) => i + 1));
    expect(recs.filter((r) => r.subject).length).toBe(recs.filter((r) => r.actionId).length);
    const report = await verify(lines(text));
    expect(report).toMatchObject({ ok: true, firstSeq: 1 });
    expect(report.trailer?.selection).toBeUndefined();
    const gapped = lines(text).filter((_, j) => j !== 3);
    expect((await verify(gapped)).problems[0]).toMatchObject({ line: 4, code: 'seq_gap' });
  });
});
