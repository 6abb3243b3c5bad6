import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_STREAMS_PER_PERSON, LIVE_STREAMS_PER_SESSION, liveStreamsOf, type LiveStreams } from '@countersign/console';
import { sessionIdOf } from '@countersign/core';
import { waitFor } from '../../../test/fakes/fake-channel.ts';
import { launchBrowser, personBrowser, screenshot, signIn, text } from '../../../test/support/browser.ts';
import { startConsoleService, submitProdDelete } from '../../../test/support/console.ts';
import type { TestService } from '../../../test/support/service.ts';
import { LiveStream, signInWithoutBrowser, type ConsoleSession } from './support/console-client.ts';

// Review s13 (3): /console/events had no limit on streams per session, and each stream asked
// Postgres whether its session still held before every event and keep-alive: 250 streams of
// one session raised submission latency 13 → 57 ms at p50, 22 → 371 ms at max. A session now
// keeps at most four streams, the newest (a new tab closes the oldest, which is told so and
// stays closed), and one session check per change serves all of them. A session that ends
// still ends every one of its streams.

/** The cap, as a reviewer counts tabs: four live, the fifth takes over from the first. */
const CAP = 4;

let t: TestService;
let live: LiveStreams;
const opened: LiveStream[] = [];

beforeAll(async () => {
  t = await startConsoleService({ COUNTERSIGN_CONSOLE_IDLE_MINUTES: '30' });
  live = liveStreamsOf(t.service.context)!;
}, 600_000);

// Each case starts with no stream held: the tabs of the last one are closed, and the server has let go of them.
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.cancel()));
  await waitFor('the server to let go of closed streams', () => live.count() === 0);
});

afterAll(() => t?.stop());

async function openStreams(session: ConsoleSession, n: number): Promise<LiveStream[]> {
  const streams: LiveStream[] = [];
  // One after the other: the server holds each before the next opens, so "oldest" is well defined.
  for (let i = 0; i < n; i++) streams.push(await LiveStream.open(t.url, session));
  opened.push(...streams);
  return streams;
}

const session = (s: ConsoleSession) => sessionIdOf(s.token);

describe('console live stream: a few per session, one session check for all', () => {
  it('a session holds at most four streams: a new one closes the oldest, which is told "replaced"; other sessions are untouched', async () => {
    const [alice, bob] = await Promise.all([signInWithoutBrowser(t.url, 'alice'), signInWithoutBrowser(t.url, 'bob')]);
    const [bobs] = await openStreams(bob, 1);
    const alices = await openStreams(alice, CAP + 3);
    // A change: each stream gives its first event. The three oldest of alice's were closed
    // with "replaced" when the newer ones opened; the newest four, and bob's one, say "changed".
    await submitProdDelete(t);
    expect(await Promise.all(alices.map((s) => s.firstEvent()))).toEqual(['replaced', 'replaced', 'replaced', 'changed', 'changed', 'changed', 'changed']);
    expect(await bobs!.firstEvent()).toBe('changed');
    for (const replaced of alices.slice(0, 3)) expect(await replaced.end()).toBe(true);
    // The server's own count of what it holds.
    expect(live.count(session(alice))).toBe(CAP);
    expect(live.count(session(bob))).toBe(1);
    expect(live.count()).toBe(CAP + 1);
    expect(LIVE_STREAMS_PER_SESSION).toBe(CAP);
  });

  it('many streams opened from one session leave four held', async () => {
    const carol = await signInWithoutBrowser(t.url, 'carol');
    const streams = await openStreams(carol, 40);
    expect(live.count(session(carol))).toBe(CAP);
    // The 36 replaced ones were closed by the server, not left open.
    const ended = await Promise.all(streams.slice(0, 36).map((s) => s.end()));
    expect(ended.every(Boolean)).toBe(true);
    expect(streams.slice(0, 36).every((s) => /^event: replaced$/m.test(s.text))).toBe(true);
    expect(streams.slice(36).every((s) => !s.closed)).toBe(true);
  });

  it('one person holds at most eight streams over all their sessions: signing in again and again does not add more', async () => {
    // Three sign-ins of one person (a script could do it in a loop), four streams each.
    const sessions = [await signInWithoutBrowser(t.url, 'carol'), await signInWithoutBrowser(t.url, 'carol'), await signInWithoutBrowser(t.url, 'carol')];
    const [judy] = await openStreams(await signInWithoutBrowser(t.url, 'judy'), 1);
    const streams: LiveStream[] = [];
    for (const s of sessions) streams.push(...(await openStreams(s, CAP)));
    expect(LIVE_STREAMS_PER_PERSON).toBe(2 * CAP);
    expect(live.countOf('carol')).toBe(2 * CAP);
    // The oldest four (the first session's) were replaced; the two newer sessions hold theirs.
    expect(live.count(session(sessions[0]!))).toBe(0);
    expect(live.count(session(sessions[1]!))).toBe(CAP);
    expect(live.count(session(sessions[2]!))).toBe(CAP);
    expect(await Promise.all(streams.slice(0, CAP).map((s) => s.end()))).toEqual([true, true, true, true]);
    expect(streams.slice(0, CAP).every((s) => /^event: replaced$/m.test(s.text))).toBe(true);
    await submitProdDelete(t);
    expect(await Promise.all(streams.slice(CAP).map((s) => s.firstEvent()))).toEqual(Array(2 * CAP).fill('changed'));
    // Someone else's stream is untouched.
    expect(await judy!.firstEvent()).toBe('changed');
    expect(live.countOf('judy')).toBe(1);
  });

  it('one session check per change serves every stream of the session', async () => {
    const dave = await signInWithoutBrowser(t.url, 'dave');
    const before = { ...live.stats };
    const streams = await openStreams(dave, CAP);
    await submitProdDelete(t);
    expect(await Promise.all(streams.map((s) => s.firstEvent()))).toEqual(['changed', 'changed', 'changed', 'changed']);
    // Sign-out ends them, so nothing more is checked or written after the counts are read.
    expect((await dave.post('/console/logout')).status).toBe(200);
    expect(await Promise.all(streams.map((s) => s.end()))).toEqual([true, true, true, true]);
    const checks = live.stats.checks - before.checks;
    const served = live.stats.served - before.served;
    // Each check (one per change burst, or per keep-alive) wrote to all four streams: four
    // streams asking on their own would have served one each.
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(served).toBe(checks * CAP);
  });

  it('signing out ends every stream of that session at once (not at the next change or keep-alive), and only those', async () => {
    const [erin, ivan] = await Promise.all([signInWithoutBrowser(t.url, 'erin'), signInWithoutBrowser(t.url, 'ivan')]);
    const erins = await openStreams(erin, CAP);
    const [ivans] = await openStreams(ivan, 1);
    expect((await erin.post('/console/logout')).status).toBe(200);
    // No change happens and the keep-alive (25 s) is beyond this test's limit: only the
    // sign-out itself can end them.
    for (const s of erins) {
      expect(await s.end()).toBe(true);
      expect(s.text).toMatch(/^event: ended$/m);
    }
    expect(live.count(session(erin))).toBe(0);
    // ivan's stream goes on: the next change reaches it.
    await submitProdDelete(t);
    expect(await ivans!.firstEvent()).toBe('changed');
    expect(live.count(session(ivan))).toBe(1);
    // And the old cookie opens no stream.
    expect((await fetch(`${t.url}/console/events`, { headers: { cookie: erin.cookie } })).status).toBe(401);
  }, 20_000);

  it('in a browser, the oldest of five inbox tabs says its live updates moved to the newer tabs; the four newer stay live', async () => {
    const browser = await launchBrowser();
    try {
      const p = await personBrowser(browser);
      await signIn(p, t.url, 'grace');
      const tabs = [p.page];
      await p.page.waitForSelector('body[data-live="true"]');
      for (let i = 1; i <= CAP; i++) {
        const tab = await p.context.newPage();
        await tab.goto(`${t.url}/console`, { waitUntil: 'load' });
        await tab.waitForSelector('body[data-live="true"]');
        tabs.push(tab);
      }
      // The first tab was told "replaced": inbox.js closes its EventSource (no reconnect to take a stream back) and says so.
      // (In front: a headless background tab may not render for the screenshot.)
      await tabs[0]!.bringToFront();
      await tabs[0]!.waitForSelector('body:not([data-live])');
      expect(await text(tabs[0]!, '#inbox-status')).toBe('Live updates moved to your newer console tabs; reload to update this one again.');
      const token = (await p.context.cookies()).find((c) => c.name === 'cs_session')!.value;
      expect(live.count(sessionIdOf(decodeURIComponent(token)))).toBe(CAP);
      for (const tab of tabs.slice(1)) expect(await tab.$eval('body', (b) => b.dataset.live)).toBe('true');
      await screenshot(tabs[0]!, 'inbox-live-replaced');
      expect(p.problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  // Last: it moves the service's clock past every session's idle limit.
  it('a session that ends elsewhere (idle) ends all its streams at the next change', async () => {
    const judy = await signInWithoutBrowser(t.url, 'judy');
    const streams = await openStreams(judy, CAP);
    t.clock.advance(31 * 60_000);
    await submitProdDelete(t);
    for (const s of streams) {
      expect(await s.firstEvent()).toBe('ended');
      expect(await s.end()).toBe(true);
    }
    expect(live.count(session(judy))).toBe(0);
    expect((await judy.get('/console')).status).toBe(303);
  });
});
