import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { launchBrowser, personBrowser, screenshot, signIn, text, type Person } from './support/browser.ts';
import { closeAll, startConsoleService, submitProdDelete } from './support/console.ts';
import type { TestService } from './support/service.ts';

// People decide in a real browser (Debian's chromium): they sign in through the embedded
// identity provider, see what awaits them and approve or deny through the engine.

let t: TestService;
let browser: Browser;
const people: Record<string, Person> = {};

beforeAll(async () => {
  [t, browser] = await Promise.all([startConsoleService(), launchBrowser()]);
  for (const id of ['alice', 'bob', 'carol', 'erin']) {
    people[id] = await personBrowser(browser);
    await signIn(people[id]!, t.url, id);
  }
}, 600_000);

afterAll(() => closeAll(browser, t));

describe('console approvals', () => {
  it('alice and bob approve a dual-control action from their inboxes while the agent long-polls', async () => {
    const alice = people.alice!.page;
    await alice.goto(`${t.url}/console`, { waitUntil: 'load' });
    await alice.waitForSelector('body[data-live="true"]');
    // A new action appears in the open inbox by itself (server-sent events).
    const id = await submitProdDelete(t);
    await alice.waitForSelector(`tr[data-action="${id}"]`);
    expect(await text(alice, `tr[data-action="${id}"]`)).toMatch(/Delete prod-eu-1[\s\S]*deploy-bot[\s\S]*destructive · high[\s\S]*0 of 2/);
    await screenshot(alice, 'inbox');

    const agent = t.api('GET', `/v1/actions/${id}?wait=60`, { token: t.tokens['deploy-bot'] });

    await alice.click(`tr[data-action="${id}"] a`);
    await alice.waitForSelector('#decide-title');
    expect(await text(alice, 'main')).toMatch(/Who can still fill it: alice, bob, carol, ivan, judy/);
    await screenshot(alice, 'action-pending');
    await alice.type('#reason', 'runbook checked');
    await Promise.all([alice.waitForNavigation(), alice.click('button[value="approve"]')]);
    expect(await text(alice, '.notice')).toBe('Your approval was recorded.');
    expect(await text(alice, 'main')).toMatch(/1 of 2/);

    const bob = people.bob!.page;
    await bob.goto(`${t.url}/console/actions/${id}`, { waitUntil: 'load' });
    await bob.type('#reason', 'no customer data left');
    await Promise.all([bob.waitForNavigation(), bob.click('button[value="approve"]')]);

    const released = await agent;
    expect(released.body).toMatchObject({ id, status: 'approved' });
    expect(released.body.votes.map((v: { personId: string; channel: string }) => [v.personId, v.channel])).toEqual([
      ['alice', 'web'],
      ['bob', 'web'],
    ]);
    expect(released.body.releaseToken).toEqual(expect.any(String));
    // The evidence names the console sessions' identity-provider subjects that voted.
    const sealed = (await t.service.context.db.actions.artifactsOf(id)).filter((a) => a.kind === 'vote.recorded').map((a) => JSON.parse(a.canonical).event);
    expect(sealed.map((e) => e.via)).toEqual([
      { channel: 'web', account: { sessionSubject: expect.stringContaining('alice') } },
      { channel: 'web', account: { sessionSubject: expect.stringContaining('bob') } },
    ]);
    expect(await text(bob, 'h1')).toMatch(/approved/);
    expect(await text(bob, '.timeline')).toMatch(/alice approved via web: runbook checked[\s\S]*bob approved via web[\s\S]*approved \(bob\)/);
    await bob.click('#verify');
    await bob.waitForSelector('#verify-result .verified');
    expect(await text(bob, '#verify-result .verified')).toMatch(/Verified: 4 artifacts/);
    await screenshot(bob, 'action-approved-verified');
    expect(people.alice!.problems.concat(people.bob!.problems)).toEqual([]);
  });

  it("erin's approval is refused on the page as self-approval, and nothing is recorded", async () => {
    const id = await submitProdDelete(t);
    const erin = people.erin!.page;
    // Not in her inbox: the same checks as a vote say she cannot decide it.
    await erin.goto(`${t.url}/console`, { waitUntil: 'load' });
    expect(await erin.$(`tr[data-action="${id}"]`)).toBeNull();
    await erin.goto(`${t.url}/console/actions/${id}`, { waitUntil: 'load' });
    await erin.type('#reason', 'mine');
    const [response] = await Promise.all([erin.waitForNavigation(), erin.click('button[value="approve"]')]);
    expect(response?.status()).toBe(403);
    expect(await text(erin, '#vote-error')).toMatch(/self_approval[\s\S]*You own the agent that requested this action/);
    expect(await erin.$eval('#reason', (el) => (el as HTMLTextAreaElement).value)).toBe('mine');
    await screenshot(erin, 'action-self-approval-refused');
    const read = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body.votes).toEqual([]);
  });

  it('carol holds both roles but fills one slot: her second try is refused and the action waits for someone else', async () => {
    const id = await submitProdDelete(t);
    const carol = people.carol!.page;
    await carol.goto(`${t.url}/console/actions/${id}`, { waitUntil: 'load' });
    await Promise.all([carol.waitForNavigation(), carol.click('button[value="approve"]')]);
    expect(await text(carol, 'main')).toMatch(/1 of 2/);
    expect(await text(carol, 'main')).not.toMatch(/Who can still fill it: [^\n]*carol/);
    // The form is still there (pending); a second approval is refused by the engine.
    await Promise.all([carol.waitForNavigation(), carol.click('button[value="approve"]')]);
    expect(await text(carol, '#vote-error')).toMatch(/already_voted/);
    await screenshot(carol, 'action-carol-one-slot');
    const read = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body.status).toBe('pending');
    expect(read.body.progress).toMatchObject({ filled: 1, needed: 2 });
  });

  it('a deny needs a reason: the problem code is shown next to the field', async () => {
    const id = await submitProdDelete(t);
    const bob = people.bob!.page;
    await bob.goto(`${t.url}/console/actions/${id}`, { waitUntil: 'load' });
    const [response] = await Promise.all([bob.waitForNavigation(), bob.click('button[value="deny"]')]);
    expect(response?.status()).toBe(422);
    expect(await text(bob, '#reason-error')).toMatch(/reason_required/);
    expect(await bob.$eval('#reason', (el) => el.getAttribute('aria-invalid'))).toBe('true');
    await screenshot(bob, 'action-deny-needs-reason');
  });
});
