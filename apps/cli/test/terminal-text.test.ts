import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARKED_CHARACTERS_WARNING } from '@countersign/core';
import { run as actions } from '../src/commands/actions.ts';
import { run as exportCommand } from '../src/commands/export.ts';
import { run as keys } from '../src/commands/keys.ts';
import { run as policy } from '../src/commands/policy.ts';
import { MARKED_LIST_WARNING } from '../src/terminal.ts';
import { cliFor } from '../../../test/support/cli.ts';
import { startTestService, type TestService } from '../../../test/support/service.ts';

// An agent's intent, a person's reason, a key's label, a policy test's name and a server's
// error reach a reviewer's terminal through the CLI. Written raw, a carriage return and ESC [K
// let the agent overwrite the line that says what will run, and a bidi override reorders it.
// Every such character must arrive as a visible ⟨U+XXXX⟩ mark (or, in --json, as a \uXXXX
// escape), and a line break in a one-line field as " ⏎ ".

const REPO = resolve(import.meta.dirname, '../../..');

const POLICY = `version: 1
rules:
  - id: prod-delete
    when: 'action.type == "environment.delete"'
    outcome: escalate
    reason: production deletion needs an SRE lead and security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
`;

const DIRECTORY = `version: 1
people:
  - { id: alice, name: Alice Martin, email: alice@example.com, roles: [sre-lead] }
  - { id: bob, name: Bob Okafor, email: bob@example.com, roles: [security] }
  - { id: carol, name: Carol Nguyen, email: carol@example.com, roles: [sre-lead] }
  - { id: erin, name: Erin Schmidt, email: erin@example.com, roles: [developer] }
agents:
  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer] }
`;

// The review's forged "what" line: back to column 0, the agent's own text, erase the rest.
const FORGED = 'x\r  what: db.query on orders-replica (read-only)\u001b[K';
const INTENT = {
  action: {
    type: 'environment.delete',
    resource: 'env/prod-eu-1',
    summary: `${FORGED} invoice\u202Efdp.exe pro\u200Bd`,
    params: { region: 'eu\u202E1-', note: 'tab\there \u001b[8mhidden' },
  },
  context: { environment: 'production' },
  risk: { class: 'destructive' },
};
const REASON = 'checked the replica\napproved by: bob (security)';

/** What a terminal would act on or hide: controls but the newline, C1, zero-width and bidi. */
const RAW = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B-\u200F\u2028-\u202E\u2066-\u2069\uFEFF]/;

let t: TestService;
let id = '';

beforeAll(async () => {
  t = await startTestService({ policy: POLICY, directory: DIRECTORY });
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: INTENT });
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${res.text}`);
  id = res.body.id;
}, 60_000);

afterAll(() => t?.stop());

const cli = (who: string, env: Record<string, string> = {}) => cliFor(t, { CS: t.url, COUNTERSIGN_TOKEN: t.tokens[who]!, ...env });

describe('caller text in the CLI reaches the terminal as marks, never raw', () => {
  it('actions vote sends a reason with a line break unchanged; actions show marks every hidden character and warns first', async () => {
    const carol = cli('carol');
    expect(await actions(['vote', id, 'approve', '--reason', REASON], carol.ctx)).toBe(0);
    // Display only: the server got and kept the reason exactly as typed.
    const stored = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens.carol });
    expect(stored.body.votes).toEqual([expect.objectContaining({ personId: 'carol', reason: REASON })]);

    const bob = cli('bob');
    expect(await actions(['show', id], bob.ctx)).toBe(0);
    const out = bob.out();
    expect(out).not.toMatch(RAW);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(MARKED_CHARACTERS_WARNING);
    expect(lines[1]).toMatch(new RegExp(`^${id}  pending`));
    expect(out).toContain(
      '  what: environment.delete on env/prod-eu-1 — x⟨U+000D⟩  what: db.query on orders-replica (read-only)⟨U+001B⟩[K invoice⟨U+202E⟩fdp.exe pro⟨U+200B⟩d\n',
    );
    // JSON.stringify escaped the ESC and the tab; the bidi override is marked.
    expect(out).toContain('  params: {"note":"tab\\there \\u001b[8mhidden","region":"eu⟨U+202E⟩1-"}\n');
    // The reason stays on the vote's line: it cannot start a line of its own that looks like ours.
    expect(out).toMatch(/ vote +carol approved via api: checked the replica ⏎ approved by: bob \(security\)/);
    expect(lines.every((l) => l === lines[0] || l.startsWith(id) || l.startsWith('  '))).toBe(true);
  });

  it('actions list shows the type, marks the summary and says that something is hidden', async () => {
    const bob = cli('bob');
    expect(await actions(['list', '--awaiting-me'], bob.ctx)).toBe(0);
    const out = bob.out();
    expect(out).not.toMatch(RAW);
    expect(out).toContain(`environment.delete on env/prod-eu-1 — x⟨U+000D⟩  what: db.query on orders-replica (read-only)⟨U+001B⟩[K invoice⟨U+202E⟩fdp.exe pro⟨U+200B⟩d 1/2\n`);
    expect(out).toContain(`${MARKED_LIST_WARNING}\n`);
  });

  it('actions show --json is the same JSON as the API, with hidden characters as \\u escapes', async () => {
    const bob = cli('bob');
    expect(await actions(['show', id, '--json'], bob.ctx)).toBe(0);
    const out = bob.out();
    expect(out).not.toMatch(RAW);
    expect(out).toContain('invoice\\u202efdp.exe pro\\u200bd');
    const api = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens.bob });
    expect(JSON.parse(out)).toEqual(api.body);
    expect(JSON.parse(out).intent.action.summary).toBe(INTENT.action.summary);
  });

  it("a server's problem+json (detail, errors) or non-JSON answer that repeats caller text is marked too", async () => {
    // Today's server keeps caller text out of the problems these requests can get; a proxy in
    // front of it or another version need not, so a stand-in answers the way one could.
    const answers = [
      { type: 'application/problem+json', body: JSON.stringify({ code: 'invalid_request', detail: 'No action x\r\u001b[2Kapproved\u202E.', errors: [{ field: 'reason\u200B', message: 'bad\nok: approved' }] }) },
      { type: 'text/html', body: '<h1>502</h1>\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007' },
    ];
    const stand = createServer((_req, res) => {
      const a = answers.shift()!;
      res.writeHead(a.type === 'text/html' ? 502 : 400, { 'content-type': a.type }).end(a.body);
    });
    await new Promise<void>((ok) => stand.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
      const c = cli('bob', { CS: url });
      expect(await actions(['vote', id, 'approve', '--reason', 'x'], c.ctx)).toBe(1);
      expect(await actions(['list'], c.ctx)).toBe(1);
      const err = c.err();
      expect(err).not.toMatch(RAW);
      expect(err).toContain('countersign actions: 400 invalid_request: No action x⟨U+000D⟩⟨U+001B⟩[2Kapproved⟨U+202E⟩.\n');
      expect(err).toContain('  reason⟨U+200B⟩: bad ⏎ ok: approved\n');
      expect(err).toContain('countersign actions: 502 error: <h1>502</h1>⟨U+001B⟩]8;;https://evil.example⟨U+0007⟩click⟨U+001B⟩]8;;⟨U+0007⟩\n');
    } finally {
      await new Promise((done) => stand.close(done));
    }
  });

  it("keys list marks a key's label", async () => {
    const label = 'ci\u001b]52;c;cm0gLXJmIH4=\u0007 bot\u202E';
    const admin = cliFor(t);
    expect(await keys(['create', '--principal', 'deploy-bot', '--label', label], admin.ctx)).toBe(0);
    const list = cliFor(t);
    expect(await keys(['list'], list.ctx)).toBe(0);
    expect(list.out()).not.toMatch(RAW);
    expect(list.out()).toContain('"ci⟨U+001B⟩]52;c;cm0gLXJmIH4=⟨U+0007⟩ bot⟨U+202E⟩"');
  });

  it('export refuses to write the raw export to a terminal (the bytes stay exact for a file or a pipe)', async () => {
    const c = cliFor(t);
    let written = '';
    const terminal = Object.assign(c.ctx.stdout, { isTTY: true });
    terminal.on('data', (d: Buffer) => (written += d.toString()));
    expect(await exportCommand(['--format', 'csv'], { ...c.ctx, stdout: terminal })).toBe(2);
    expect(written).toBe('');
    expect(c.err()).toContain('not writing the export to a terminal');
  });
});

// An intent whose text is all visible but mixes look-alike letters into Latin words: a resource
// "prоd" with a Cyrillic о, a param value "рrod" with a Cyrillic р, a key "deletеBackups" with a
// Cyrillic е. The cards and the console show those letters as marks, and so must the terminal,
// with the same warning; words wholly in Cyrillic ("удалить") are shown as written.
const UDALIT = '\u0443\u0434\u0430\u043B\u0438\u0442\u044C';
const LOOKALIKE_INTENT = {
  action: {
    type: 'environment.delete',
    resource: 'env/pr\u043Ed-eu-2',
    summary: `Delete pr\u043Ed-eu-2 (${UDALIT} staging)`,
    params: { target: '\u0440rod', note: `${UDALIT} env`, 'delet\u0435Backups': true },
  },
  context: { environment: 'production' },
  risk: { class: 'destructive' },
};
const ONE_SCRIPT_INTENT = {
  action: { type: 'environment.delete', resource: 'env/prod-eu-3', summary: `${UDALIT} prod-eu-3`, params: { note: `${UDALIT} env` } },
  context: { environment: 'production' },
  risk: { class: 'destructive' },
};

describe('look-alike letters in the caller\'s words reach the terminal as marks, with the warning', () => {
  let lookalikeId = '';
  let oneScriptId = '';
  beforeAll(async () => {
    for (const [intent, set] of [
      [LOOKALIKE_INTENT, (v: string) => (lookalikeId = v)],
      [ONE_SCRIPT_INTENT, (v: string) => (oneScriptId = v)],
    ] as const) {
      const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intent });
      if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${res.text}`);
      set(res.body.id);
    }
  });

  it('actions show marks them in the resource, the summary, param keys and values, and warns first', async () => {
    const bob = cli('bob');
    expect(await actions(['show', lookalikeId], bob.ctx)).toBe(0);
    const out = bob.out();
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(MARKED_CHARACTERS_WARNING);
    expect(lines[1]).toMatch(new RegExp(`^${lookalikeId}  pending`));
    expect(out).toContain(`  what: environment.delete on env/pr⟨U+043E⟩d-eu-2 — Delete pr⟨U+043E⟩d-eu-2 (${UDALIT} staging)\n`);
    expect(out).toContain(`  params: {"note":"${UDALIT} env","target":"⟨U+0440⟩rod","delet⟨U+0435⟩Backups":true}\n`);
    expect(out).not.toContain('pr\u043Ed');
    expect(out).not.toContain('\u0440rod');
  });

  it('actions show does not warn for words wholly in one script, shown as written', async () => {
    const bob = cli('bob');
    expect(await actions(['show', oneScriptId], bob.ctx)).toBe(0);
    const out = bob.out();
    expect(out).not.toContain('⚠');
    expect(out).not.toContain('⟨U+');
    expect(out).toContain(`  what: environment.delete on env/prod-eu-3 — ${UDALIT} prod-eu-3\n`);
  });

  it('actions list marks them in the row and says so under the rows; not for words in one script', async () => {
    const bob = cli('bob');
    expect(await actions(['list', '--resource', 'env/pr\u043Ed'], bob.ctx)).toBe(0);
    const out = bob.out();
    expect(out).toContain(`environment.delete on env/pr⟨U+043E⟩d-eu-2 — Delete pr⟨U+043E⟩d-eu-2 (${UDALIT} staging) 0/2\n`);
    expect(out).toContain(`${MARKED_LIST_WARNING}\n`);
    expect(out).not.toContain('pr\u043Ed');
    const plain = cli('bob');
    expect(await actions(['list', '--resource', 'env/prod-eu-3'], plain.ctx)).toBe(0);
    expect(plain.out()).toContain(`environment.delete on env/prod-eu-3 — ${UDALIT} prod-eu-3 0/2\n`);
    expect(plain.out()).not.toContain('⚠');
  });

  it("marks a look-alike in onBehalfOf, in actions show and actions list (a stand-in server's answer)", async () => {
    // Today's directory ids are ASCII; an action stored before that, or another server, need not be.
    const requester = { kind: 'agent', id: 'deploy-bot', owner: 'erin', onBehalfOf: 'fr\u0430nk' };
    const shown = { id: 'act_x', status: 'pending', verdict: 'escalate', policyDigest: 'p'.repeat(64), intent: { action: { type: 'db.drop', params: {} } }, requester, ruleIds: ['r'], reasons: ['why'], timeline: [] };
    const listed = { items: [{ id: 'act_x', status: 'pending', createdAt: '2026-05-01T10:00:00.000Z', requester, actionType: 'db.drop', resource: null, summary: null }], nextCursor: null };
    const stand = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url === '/v1/actions/act_x' ? shown : listed));
    });
    await new Promise<void>((ok) => stand.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
      const show = cli('bob', { CS: url });
      expect(await actions(['show', 'act_x'], show.ctx)).toBe(0);
      expect(show.out().split('\n')[0]).toBe(MARKED_CHARACTERS_WARNING);
      expect(show.out()).toContain('  who: deploy-bot (agent) on behalf of fr⟨U+0430⟩nk, owner erin\n');
      const list = cli('bob', { CS: url });
      expect(await actions(['list'], list.ctx)).toBe(0);
      expect(list.out()).toContain(' for fr⟨U+0430⟩nk  db.drop\n');
      expect(list.out()).toContain(`${MARKED_LIST_WARNING}\n`);
    } finally {
      await new Promise((done) => stand.close(done));
    }
  });
});

describe('policy test output marks what the test file says', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-cli-text-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a failing case's name cannot rewrite its ✗ line into a ✓", async () => {
    writeFileSync(
      join(dir, 'forged.test.yaml'),
      `cases:
  - name: "wishful\\r✓ all good\\e[K"
    actor: deploy-bot
    intent: { action: { type: db.query, resource: orders-replica } }
    expect: { outcome: refuse }
`,
    );
    let out = '';
    const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const code = await policy(['test', join(dir, 'forged.test.yaml')], { stdout: sink, stderr: sink, env: {}, cwd: REPO });
    expect(code).toBe(1);
    expect(out).not.toMatch(RAW);
    expect(out).toMatch(/^✗ wishful⟨U\+000D⟩✓ all good⟨U\+001B⟩\[K$/m);
  });
});
