import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIRECTORY } from './support/console.ts';
import { startTestService, type TestService } from './support/service.ts';

// A downstream service that follows only the documentation computes the same hash as a release
// token's `intent_sha256`: the shell block of packages/sdk/README.md ("`intent_sha256` with
// standard tools") is run as written, with curl, node and sha256sum, and the normalising rule
// the README states is applied here by hand, from its text alone. Nothing of countersign's own
// code computes a hash in this file.

const README = path.resolve(import.meta.dirname, '..', 'packages', 'sdk', 'README.md');

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
`;

// What the agent sends: free text with white space to trim (no-break space, ideographic space,
// line separator, tab, newline), sections left out, member names whose RFC 8785 order differs
// from code point order, numbers that JSON writes in more than one way, text inside params that
// must be hashed as sent.
const SENT = {
  action: {
    type: 'environment.delete',
    resource: '\u00a0env/prod-eu-1 \u2028',
    summary: '\tDelete prod-eu-1\u3000',
    params: {
      token: 'tok-123',
      '\u{1F600}': 'grin',
      '\uFB01': 'ligature',
      notes: ['  kept as sent  ', '\u007f'],
      sizes: [1, 0.1, 1e21, 1.5e-7, -12.75],
      nested: { b: true, a: null },
    },
  },
  context: { environment: ' production\t' },
  justification: ' region decommissioned \n',
};

type Section = Record<string, unknown>;
/** An intent as the README's steps see it: sections of members (all but `action` may be left out), and free text. */
type Intent = { action: Section; context?: Section; authority?: Section; risk?: Section; onBehalfOf?: unknown; justification?: unknown };

/** The README's three steps, applied by hand. */
function normaliseAsDocumented(sent: typeof SENT): Record<string, unknown> {
  const out: Intent = structuredClone(sent);
  out.action.params ??= {};
  out.context ??= {};
  out.context.attributes ??= {};
  out.authority ??= {};
  out.authority.attributes ??= {};
  out.risk ??= {};
  const trimmed: [section: 'action' | 'context' | 'risk' | 'authority', keys: string[]][] = [
    ['action', ['resource', 'summary']],
    ['context', ['environment', 'account', 'jurisdiction', 'matter']],
    ['risk', ['class']],
    ['authority', ['changeTicket', 'clientInstruction', 'regulation', 'reference']],
  ];
  for (const [section, keys] of trimmed) {
    for (const key of keys) if (typeof out[section]![key] === 'string') out[section]![key] = (out[section]![key] as string).trim();
  }
  for (const key of ['onBehalfOf', 'justification'] as const) if (typeof out[key] === 'string') out[key] = (out[key] as string).trim();
  return out;
}

/** The first ```sh block after the README heading that names it. */
function documentedBlock(): string {
  const text = fs.readFileSync(README, 'utf8');
  const heading = text.indexOf('### `intent_sha256` with standard tools');
  expect(heading, 'the README section is gone').toBeGreaterThan(-1);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(heading));
  expect(block, 'the README section has no sh block').not.toBeNull();
  return block![1]!;
}

let t: TestService;
let work: string;
let id: string;
let approved: { releaseToken: string; intentHash: string; normalizedIntent: Record<string, unknown>; intent: Record<string, unknown> };

beforeAll(async () => {
  t = await startTestService({ policy: POLICY, directory: CONSOLE_DIRECTORY, env: { COUNTERSIGN_AUDIT_UNREDACTED_ROLES: 'auditor' } });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-intent-hash-'));
  const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: SENT });
  expect(submitted.status).toBe(201);
  expect(submitted.body.status).toBe('pending');
  id = submitted.body.id;
  for (const who of ['alice', 'bob']) {
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who], body: { decision: 'approve', reason: 'checked' } });
    expect(vote.status, vote.text).toBe(201);
  }
  const read = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
  expect(read.body.status).toBe('approved');
  approved = read.body;
}, 60_000);

afterAll(async () => {
  await t?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('intent_sha256, reproduced from the README alone', () => {
  it("the README's shell block (curl, node, sha256sum) prints the token's intent_sha256", async () => {
    // Asynchronously: its curl asks the service running in this very process.
    const run = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', documentedBlock()], {
      cwd: work,
      env: { ...process.env, CS: t.url, ID: id, KEY: t.tokens['deploy-bot'], TOKEN: approved.releaseToken },
      encoding: 'utf8',
    });
    const lines = run.stdout.trim().split('\n');
    const computed = /^([0-9a-f]{64}) {2}intent\.json$/.exec(lines[0] ?? '')?.[1];
    const claim = lines.at(-1);
    expect(computed).toBeDefined();
    expect(claim).toMatch(/^[0-9a-f]{64}$/);
    expect(computed).toBe(claim);
    expect(computed).toBe(approved.intentHash);
    // The claim the block printed is the token's own (decoded here without the README's help).
    const payload = JSON.parse(Buffer.from(approved.releaseToken.split('.')[1]!, 'base64url').toString('utf8')) as { intent_sha256: string };
    expect(payload.intent_sha256).toBe(claim);

    // The README's alternative: openssl over the same file.
    const openssl = spawnSync('openssl', ['dgst', '-sha256', '-r', 'intent.json'], { cwd: work, encoding: 'utf8' });
    expect(openssl.status, openssl.stderr).toBe(0);
    expect(openssl.stdout.split(' ')[0]).toBe(claim);
    // RFC 8785 puts the emoji name (UTF-16 D83D …) before U+FB01; code point order would not.
    const canonical = fs.readFileSync(path.join(work, 'intent.json'), 'utf8');
    expect(canonical.indexOf('"\u{1F600}"')).toBeLessThan(canonical.indexOf('"\uFB01"'));
    expect(canonical).toContain('"sizes":[1,0.1,1e+21,1.5e-7,-12.75]');
    expect(canonical.endsWith('}')).toBe(true);
  });

  it("the README's normalising rule, applied by hand to what the agent sent, gives exactly normalizedIntent", () => {
    const byHand = normaliseAsDocumented(SENT);
    expect(approved.normalizedIntent).toEqual(byHand);
    // What the agent sent is not what is hashed: the README says so, and this is why.
    expect(approved.normalizedIntent).not.toEqual(SENT);

    // Canonicalised and hashed with the README's block on a file of our own.
    const block = documentedBlock();
    const canonicalise = /node -e '\n([\s\S]*?)\n' < action\.json/.exec(block)?.[1];
    expect(canonicalise, 'the block no longer canonicalises with node -e').toBeDefined();
    fs.writeFileSync(path.join(work, 'sent.json'), JSON.stringify({ normalizedIntent: byHand }));
    const jcs = spawnSync('node', ['-e', canonicalise!], { input: fs.readFileSync(path.join(work, 'sent.json')), encoding: 'utf8' });
    expect(jcs.status, jcs.stderr).toBe(0);
    const sum = spawnSync('sha256sum', [], { input: jcs.stdout, encoding: 'utf8' });
    expect(sum.stdout.split(' ')[0]).toBe(approved.intentHash);
  });
});

describe('who gets normalizedIntent', () => {
  it('the requester on submit and on read; readers allowed unredacted intents; never another approver', async () => {
    const again = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: SENT });
    expect(again.body.normalizedIntent).toEqual(normaliseAsDocumented(SENT));

    const approver = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens.bob });
    expect(approver.status).toBe(200);
    expect(approver.body.normalizedIntent).toBeUndefined();
    expect(approver.body.intent.action.params.token).toBe('[redacted]');
    expect(approver.body.intent.justification).toBe('[redacted]');
    expect(approver.body.releaseToken).toBeUndefined();

    // grace holds the auditor role, listed in COUNTERSIGN_AUDIT_UNREDACTED_ROLES here.
    const auditor = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens.grace });
    expect(auditor.body.normalizedIntent).toEqual(approved.normalizedIntent);
    expect(auditor.body.intent).toEqual(approved.normalizedIntent);
  });
});
