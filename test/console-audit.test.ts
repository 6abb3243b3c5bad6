import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { run as verifyCommand } from '../apps/cli/src/commands/verify.ts';
import { launchBrowser, personBrowser, screenshot, signIn, text, type Person } from './support/browser.ts';
import { cliFor } from './support/cli.ts';
import { closeAll, startConsoleService, submitProdDelete } from './support/console.ts';
import { tamperArtifact } from './support/tamper.ts';
import type { TestService } from './support/service.ts';

// Auditors without chat: search the history, download the evidence and check it, in the
// browser and with `countersign verify`; a tampered artifact is caught by the Verify button.

let t: TestService;
let browser: Browser;
let grace: Person;
let approved: string;
let refused: string;

beforeAll(async () => {
  [t, browser] = await Promise.all([startConsoleService(), launchBrowser()]);
  approved = await submitProdDelete(t);
  for (const [who, reason] of [['alice', 'runbook checked'], ['bob', 'no data left']] as const) {
    await t.api('POST', `/v1/actions/${approved}/votes`, { token: t.tokens[who], body: { decision: 'approve', reason } });
  }
  refused = await submitProdDelete(t, { action: { type: 'environment.delete', resource: 'env/prod-us-2', summary: 'Delete prod-us-2' } });
  await t.api('POST', `/v1/actions/${refused}/votes`, { token: t.tokens.judy, body: { decision: 'deny', reason: 'customers still on it' } });
  grace = await personBrowser(browser);
  await signIn(grace, t.url, 'grace', '/console/history');
}, 600_000);

afterAll(() => closeAll(browser, t));

describe('console for auditors', () => {
  it('grace (auditor) searches the history with the list filters; bad input shows the API problem code next to the field', async () => {
    const page = grace.page;
    await page.goto(`${t.url}/console/history?actionType=environment.delete&status=refused`, { waitUntil: 'load' });
    const rows = await text(page, 'table.list tbody');
    expect(rows).toMatch(/Delete prod-us-2[\s\S]*refused[\s\S]*judy/);
    expect(rows).not.toMatch(/Delete prod-eu-1/);
    await page.goto(`${t.url}/console/history?resource=env%2Fprod-eu&voter=alice`, { waitUntil: 'load' });
    expect(await text(page, 'table.list tbody')).toMatch(/Delete prod-eu-1[\s\S]*approved/);
    await screenshot(page, 'history');

    // The same problem code as GET /v1/actions would give, beside the field it is about.
    await page.goto(`${t.url}/console/history`, { waitUntil: 'load' });
    await page.type('#f-status', 'approvedd');
    await page.type('#f-submittedFrom', '03042026');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type="submit"]')]);
    expect(await text(page, '#status-error')).toMatch(/invalid_request[\s\S]*one of pending, approved/);
    expect(await page.$eval('#f-status', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    const api = await t.api('GET', '/v1/actions?status=approvedd', { token: t.tokens.grace });
    expect(api.status).toBe(400);
    expect(api.body).toMatchObject({ code: 'invalid_request', errors: [{ field: 'status.0' }] });
    await screenshot(page, 'history-bad-input');
  });

  it('grace downloads the export from the console and `countersign verify` accepts it', async () => {
    const page = grace.page;
    await page.goto(`${t.url}/console/history`, { waitUntil: 'load' });
    const href = await page.$eval('a[href*="/console/history/export"][href*="format=jsonl"]', (a) => (a as HTMLAnchorElement).href);
    // Fetched inside the page: the browser's own session cookie, as the download link uses.
    const body = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    const file = path.join(t.configDir, 'audit.jsonl');
    fs.writeFileSync(file, body);
    expect(body.split('\n').filter(Boolean).length).toBeGreaterThan(5);
    const cli = cliFor(t);
    const code = await verifyCommand([file, '--key', `${t.url}/.well-known/jwks.json`], cli.ctx);
    expect(cli.out()).toMatch(/^OK: \d+ records/);
    expect(code).toBe(0);
  });

  it('grace downloads a filtered export (a selection) that `countersign verify` accepts; one line deleted, it fails', async () => {
    const page = grace.page;
    await page.goto(`${t.url}/console/history?resource=env%2Fprod-us&status=refused`, { waitUntil: 'load' });
    const href = await page.$eval('a[href*="/console/history/export"][href*="format=csv"]', (a) => (a as HTMLAnchorElement).href);
    expect(new URL(href).searchParams.get('resource')).toBe('env/prod-us');
    expect(new URL(href).searchParams.get('status')).toBe('refused');
    const body = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    const rows = body.trimEnd().split(/\r?\n/);
    expect(rows).toHaveLength(5);
    // Only the refused prod-us-2 action (escalation, judy's denial, decision), each row naming its resource.
    expect(rows.slice(1, -1).every((r) => r.includes(refused) && r.includes('env/prod-us-2'))).toBe(true);
    expect(rows.some((r) => r.includes(approved))).toBe(false);
    const cli = cliFor(t);
    const file = path.join(t.configDir, 'selection.csv');
    fs.writeFileSync(file, body);
    expect(await verifyCommand([file, '--key', `${t.url}/.well-known/jwks.json`], cli.ctx)).toBe(0);
    expect(cli.out()).toMatch(/^OK: 3 records[\s\S]*selection: the actions matching resource=env\/prod-us status=refused/);

    fs.writeFileSync(file, rows.filter((_, i) => i !== 2).join('\n') + '\n');
    const failed = cliFor(t);
    expect(await verifyCommand([file, '--key', `${t.url}/.well-known/jwks.json`], failed.ctx)).toBe(1);
    expect(failed.out()).toMatch(/^FAILED: .*trailer_mismatch/);
  });

  it('reads every action as an auditor, redacted as approvers see it', async () => {
    const res = await t.api('GET', `/v1/actions/${approved}`, { token: t.tokens.grace });
    expect(res.status).toBe(200);
    expect(res.body.intent.action.resource).toBe('env/prod-eu-1');
    expect(res.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['submitted', 'vote', 'vote', 'decided']);
    // Not a party and no audit role: not found, as before.
    expect((await t.api('GET', `/v1/actions/${approved}`, { token: t.tokens.dave })).status).toBe(404);
  });

  it('Verify checks the evidence in the browser and flags an artifact tampered in the database', async () => {
    const page = grace.page;
    grace.problems.length = 0; // the bad-input page above answered 400 on purpose
    await page.goto(`${t.url}/console/actions/${approved}`, { waitUntil: 'load' });
    await page.click('#verify');
    await page.waitForSelector('#verify-result .verified');

    const seq = await tamperArtifact(t.databaseUrl, approved, 'vote.recorded', (canonical) => canonical.replace('runbook checked', 'runbook skipped'));
    await page.reload({ waitUntil: 'load' });
    await page.click('#verify');
    await page.waitForSelector('#verify-result .refusal');
    expect(await text(page, '#verify-result .refusal')).toMatch(/FAILED: 2 of 4 artifacts do not verify/);
    expect(await text(page, `#artifact-${seq}`)).toMatch(/✗[\s\S]*SHA-256 of the bytes is/);
    // The next artifact still links to the hash that was sealed, which the edited bytes no longer have.
    expect(await text(page, `#artifact-${seq + 1}`)).toMatch(/✗[\s\S]*does not link to #/);
    await screenshot(page, 'action-verify-tampered');
    expect(grace.problems).toEqual([]);
  });
});
