import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { CONSOLE_CSP } from '@countersign/console';
import { launchBrowser, personBrowser, screenshot, signIn, text, type Person } from './support/browser.ts';
import { closeAll, CONSOLE_DIRECTORY, startConsoleService, submitProdDelete } from './support/console.ts';
import { setDirectory } from './support/directory-file.ts';
import type { TestService } from './support/service.ts';

// Sessions: who may sign in, cookies, CSRF on every change, idle and absolute timeouts, logout,
// and a session following the directory as API keys do.

let t: TestService;
let browser: Browser;

beforeAll(async () => {
  [t, browser] = await Promise.all([startConsoleService({ COUNTERSIGN_CONSOLE_IDLE_MINUTES: '30', COUNTERSIGN_CONSOLE_SESSION_HOURS: '12' }), launchBrowser()]);
}, 600_000);

afterAll(() => closeAll(browser, t));

async function cookieOf(p: Person, name: string) {
  // BrowserContext.cookies() takes no URL: every cookie of this person's context, which has
  // visited only this console.
  return (await p.context.cookies()).find((c) => c.name === name);
}


async function votes(id: string) {
  return (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.votes;
}

describe('console sessions', () => {
  it('someone the identity provider knows but the directory does not is refused with a clear page', async () => {
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'mallory');
    expect(await text(p.page, 'h1')).toBe('Sign-in refused');
    expect(await text(p.page, 'main')).toMatch(/mallory@unknown\.invalid is not in the countersign directory[\s\S]*unknown_identity/);
    expect(await cookieOf(p, 'cs_session')).toBeUndefined();
    await screenshot(p.page, 'sign-in-refused');
    await p.context.close();
  });

  it('the session cookie is HttpOnly and SameSite; pages carry a CSP without inline scripts', async () => {
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'alice', '/console/policy');
    const cookie = await cookieOf(p, 'cs_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/console' }); // loopback: not Secure
    const res = await p.page.goto(`${t.url}/console/policy`, { waitUntil: 'load' });
    expect(res?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/script-src 'self';/);
    expect(await p.page.$$eval('script:not([src])', (s) => s.length)).toBe(0);
    expect(await text(p.page, 'main')).toMatch(/prod-delete[\s\S]*1 × sre-lead \+ 1 × security[\s\S]*Directory roles[\s\S]*auditor\s+grace/);
    // Which files: the ones the service was started with, never a fixed config/ path (wrong in every deployment).
    expect(await text(p.page, '.lede')).toMatch(/COUNTERSIGN_POLICY, COUNTERSIGN_DIRECTORY/);
    expect(await text(p.page, 'main')).not.toContain('config/policy.yaml');
    await screenshot(p.page, 'policy');
    expect(p.problems).toEqual([]);
    await p.context.close();
  });

  it('a forged or missing CSRF token is refused and nothing is recorded', async () => {
    const id = await submitProdDelete(t);
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'alice', `/console/actions/${id}`);
    await p.page.$eval('form[action$="/vote"] input[name="_csrf"]', (el) => ((el as HTMLInputElement).value = 'forged-token'));
    const [response] = await Promise.all([p.page.waitForNavigation(), p.page.click('button[value="approve"]')]);
    expect(response?.status()).toBe(403);
    expect(await text(p.page, 'main')).toMatch(/CSRF token mismatch[\s\S]*forbidden/);
    await screenshot(p.page, 'csrf-refused');
    // A cross-site form post (the cookie rides along, the token cannot): refused too.
    const crossSite = await p.page.evaluate(async (url) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve&reason=x' });
      return r.status;
    }, `${t.url}/console/actions/${id}/vote`);
    expect(crossSite).toBe(403);
    expect(await votes(id)).toEqual([]);
    await p.context.close();
  });

  it('an idle session ends: pages ask to sign in again and a vote is refused', async () => {
    const id = await submitProdDelete(t);
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'bob', `/console/actions/${id}`);
    await p.page.type('#reason', 'looks fine');
    t.clock.advance(31 * 60_000);
    const [response] = await Promise.all([p.page.waitForNavigation(), p.page.click('button[value="approve"]')]);
    expect(response?.status()).toBe(401);
    expect(await text(p.page, 'main')).toMatch(/session has ended[\s\S]*unauthenticated/);
    await screenshot(p.page, 'session-expired');
    expect(await votes(id)).toEqual([]);
    // A page now goes through sign-in again (the identity provider's own session answers at
    // once here) and a new console session begins.
    const old = await cookieOf(p, 'cs_session');
    const again = await p.page.goto(`${t.url}/console`, { waitUntil: 'load' });
    expect(again!.request().redirectChain().map((r) => new URL(r.url()).pathname)).toContain('/console/login');
    expect((await cookieOf(p, 'cs_session'))?.value).not.toBe(old?.value);
    await p.context.close();
  });

  it('the absolute timeout ends even an active session', async () => {
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'carol');
    const first = (await cookieOf(p, 'cs_session'))!.value;
    for (let i = 1; i <= 26; i++) {
      t.clock.advance(29 * 60_000); // never idle 30 minutes…
      const r = await p.page.goto(`${t.url}/console/policy`, { waitUntil: 'load' });
      const signedInAgain = r!.request().redirectChain().some((x) => new URL(x.url()).pathname === '/console/login');
      if (signedInAgain) {
        expect(i * 29).toBeGreaterThanOrEqual(12 * 60); // …but 12 hours after sign-in it ends
        expect((await cookieOf(p, 'cs_session'))!.value).not.toBe(first);
        return;
      }
      expect(r?.status()).toBe(200);
    }
    throw new Error('the session outlived its absolute timeout');
  });

  it('logout ends the session on the server, not only in the browser', async () => {
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'dave');
    const before = await cookieOf(p, 'cs_session');
    await Promise.all([p.page.waitForNavigation(), p.page.click('form.who button')]);
    expect(await text(p.page, 'h1')).toBe('Signed out');
    // The old cookie, replayed, no longer opens anything.
    const replay = await fetch(`${t.url}/console`, { headers: { cookie: `cs_session=${before!.value}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/console\/login/);
    await p.context.close();
  });
  it('a session ends when the entry under its id names someone else (another email), as that person\'s keys stop', async () => {
    const BOB = '  - { id: bob, name: Bob Okafor, email: bob@example.com, roles: [security] }\n';
    expect(CONSOLE_DIRECTORY).toContain(BOB);
    const id = await submitProdDelete(t);
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'bob', `/console/actions/${id}`);
    const cookie = (await cookieOf(p, 'cs_session'))!.value;
    const opens = async () => (await fetch(`${t.url}/console`, { headers: { cookie: `cs_session=${cookie}` }, redirect: 'manual' })).status;
    try {
      // The same address in other letters is the same person: the session goes on.
      await setDirectory(t, CONSOLE_DIRECTORY.replace(BOB, BOB.replace('bob@example.com', 'Bob@Example.COM')));
      expect(await opens()).toBe(200);
      // Another address under the id: whoever signed in as bob is not this bob.
      await setDirectory(t, CONSOLE_DIRECTORY.replace(BOB, BOB.replace('bob@example.com', 'bob.okafor@example.org')));
      await p.page.type('#reason', 'looks fine');
      const [response] = await Promise.all([p.page.waitForNavigation(), p.page.click('button[value="approve"]')]);
      expect(response?.status()).toBe(401);
      expect(await votes(id)).toEqual([]);
    } finally {
      await setDirectory(t, CONSOLE_DIRECTORY);
    }
    // The old entry back: the session stays ended; its cookie goes to sign-in.
    expect(await opens()).toBe(303);
    await p.context.close();
  });
  it('the live stream lasts only as long as its session, and does not keep it from going idle', async () => {
    const p = await personBrowser(browser);
    await signIn(p, t.url, 'judy');
    const cookie = (await cookieOf(p, 'cs_session'))!.value;
    await p.context.close();
    // 20 minutes on, the stream opens (a browser reconnecting by itself, say): not activity.
    t.clock.advance(20 * 60_000);
    const stream = await fetch(`${t.url}/console/events`, { headers: { cookie: `cs_session=${cookie}` } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let seen = '';
    /** Reads until `pattern` has arrived (the stream's own pace; the test runner's timeout bounds it). */
    const until = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      return pattern.test(seen);
    };
    // A change: the session holds (idle after 30), the stream says so.
    await submitProdDelete(t);
    expect(await until(/event: changed/)).toBe(true);
    // The inbox reads its rows again, as its script does on "changed": not activity either.
    expect((await fetch(`${t.url}/console/inbox/rows`, { headers: { cookie: `cs_session=${cookie}` }, redirect: 'manual' })).status).toBe(200);
    // 11 minutes more: idle 31 minutes, since the stream's checks and the refresh are not activity.
    t.clock.advance(11 * 60_000);
    await submitProdDelete(t);
    expect(await until(/event: ended/)).toBe(true);
    // Nothing more: the server closed it.
    const rest = await reader.read();
    expect(rest.done).toBe(true);
    // And the session is over for pages too.
    expect((await fetch(`${t.url}/console`, { headers: { cookie: `cs_session=${cookie}` }, redirect: 'manual' })).status).toBe(303);
  });
});
