import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyPem, verifyExport } from '@countersign/evidence';
import { run as runExport } from '../apps/cli/src/commands/export.ts';
import { run as runVerify } from '../apps/cli/src/commands/verify.ts';
import { cliFor } from './support/cli.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

let t: TestService;
let dir: string;
beforeAll(async () => {
  t = await startTestService();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-export-'));
  const agent = t.tokens['deploy-bot']!;
  await t.api('POST', '/v1/actions', { token: agent, body: intents.read });
  await t.api('POST', '/v1/actions', { token: agent, body: intents.unmatched });
  const { body: esc } = await t.api('POST', '/v1/actions', { token: agent, body: intents.prodDelete });
  await t.api('POST', `/v1/actions/${esc.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
  await t.api('POST', `/v1/actions/${esc.id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'ok' } });
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = () => cliFor(t);

describe('evidence', () => {
  it('seals every kind of change: config, keys, escalation, votes, decisions', async () => {
    const kinds = (await t.prisma.artifact.findMany({ select: { kind: true } })).map((a) => a.kind);
    for (const k of ['config.changed', 'key.created', 'action.decided', 'action.escalated', 'vote.recorded']) expect(kinds).toContain(k);
    const seqs = (await t.prisma.artifact.findMany({ orderBy: { seq: 'asc' }, select: { seq: true } })).map((a) => Number(a.seq));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('the database itself refuses to rewrite or delete evidence', async () => {
    await expect(t.prisma.$executeRawUnsafe(`UPDATE "Artifact" SET kind = 'x' WHERE seq = 1`)).rejects.toThrow();
    await expect(t.prisma.$executeRawUnsafe(`DELETE FROM "Artifact" WHERE seq = 1`)).rejects.toThrow();
  });

  it('exports JSONL and CSV over HTTP that verify offline; only auditors may export', async () => {
    const denied = await t.api('GET', '/v1/audit/export', { token: t.tokens.alice });
    expect(denied.status).toBe(403);
    const keys = t.service.keyring.publicKeys();
    const jsonl = await t.api('GET', '/v1/audit/export?format=jsonl', { token: t.tokens.grace });
    expect(jsonl.headers.get('content-type')).toMatch(/ndjson/);
    const report = await verifyExport(jsonl.text.trim().split('\n'), keys);
    expect(report).toMatchObject({ ok: true, records: await t.prisma.artifact.count() });
    const csv = await t.api('GET', '/v1/audit/export?format=csv', { token: t.tokens.grace });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await verifyExport(csv.text.trim().split('\n'), keys)).ok).toBe(true);
    const bad = await t.api('GET', '/v1/audit/export?format=xml', { token: t.tokens.grace });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('format');
  });

  it('exports a time window as a contiguous, verifiable range', async () => {
    const all = await t.prisma.artifact.findMany({ orderBy: { seq: 'asc' } });
    const from = all[3]!.at.toISOString();
    const res = await t.api('GET', `/v1/audit/export?from=${encodeURIComponent(from)}`, { token: t.tokens.grace });
    const report = await verifyExport(res.text.trim().split('\n'), t.service.keyring.publicKeys());
    expect(report.ok).toBe(true);
    expect(report.firstSeq).toBeLessThanOrEqual(4);
  });

  it('`countersign export` then `countersign verify` succeeds, and catches tampering', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const exp = cli();
    expect(await runExport(['--out', file], exp.ctx)).toBe(0);
    const pub = path.join(dir, 'pub.pem');
    fs.writeFileSync(pub, publicKeyPem(t.service.keyring.active));
    const ok = cli();
    expect(await runVerify([file, '--key', pub], ok.ctx)).toBe(0);
    expect(ok.out()).toMatch(/^OK/);

    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const edited = lines.map((l, i) => {
      if (i !== 2) return l;
      const record = JSON.parse(l);
      record.canonical = record.canonical.replace('"kind":"', '"kind":"x');
      return JSON.stringify(record);
    });
    expect(edited[2]).not.toBe(lines[2]);
    fs.writeFileSync(path.join(dir, 'edited.jsonl'), edited.join('\n') + '\n');
    const bad = cli();
    expect(await runVerify([path.join(dir, 'edited.jsonl'), '--key', pub], bad.ctx)).toBe(1);

    const dropped = lines.filter((_, i) => i !== 1);
    fs.writeFileSync(path.join(dir, 'dropped.jsonl'), dropped.join('\n') + '\n');
    const gap = cli();
    expect(await runVerify([path.join(dir, 'dropped.jsonl'), '--key', pub], gap.ctx)).toBe(1);
    expect(gap.out() + gap.err()).toMatch(/seq/);
    expect(bad.out() + bad.err()).toMatch(/line 3/);
  });
});
