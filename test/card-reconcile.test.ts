import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackModule } from '@countersign/slack';
import { workerModule } from '@countersign/worker';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { channelModule, waitFor } from './fakes/fake-channel.ts';
import { queueIntents, queueTestsPerCase } from './fakes/queue-harness.ts';
import { ScriptedChannel } from './fakes/scripted-channel.ts';
import { randomQueuePrefix, redisUrlForTests } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';
import { isCardPost, newSigningKey, RECOVERY_CHANNEL, recoveryConfig, recoveryIntent, recoverySlack, WorkerCluster } from './bench/worker-recovery.ts';

// No live card for a decided action. A post Slack took but whose answer was lost (a 500 after
// accepting it, a timeout, the posting worker killed mid-post) leaves its card row in doubt;
// when the action is decided before any retry, the decision's update-cards job reconciles
// every row still in doubt: it looks the card up by the card id in its message metadata and
// shows the outcome on it, or records that none exists. In the end every message about the
// action shows the outcome without buttons, and every card row is final.
//
// Also: a worker killed mid-post while the action is still pending; the surviving worker posts
// the card, once (how fast is test/bench/worker-recovery.ts's figure, not asserted here).

const TEAM = 'T0TEAM0001';
const ON_500 = 'C0RECON500';
const ON_LATE = 'C0RECONLAT';
const ON_429 = 'C0RECON429';
const NO_SCOPE = 'C0RECONSCP';

const rule = (id: string, channel: string) => `
  - id: reconcile-${id}
    when: 'action.type == "reconcile.${id}"'
    outcome: escalate
    reason: one Slack channel
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${channel}']
`;

const forAction = (id: string) => (m: FakeMessage) => m.threadTs === null && JSON.stringify(m.history[0]!.blocks).includes(id);
const hasButtons = (m: FakeMessage) => m.blocks.some((b) => b.type === 'actions');
const shows = (m: FakeMessage, word: string) => (m.blocks[0] as { text?: { text?: string } }).text?.text?.startsWith(`${word}:`) === true;

/** Every message about the action shows `word` and no buttons; there is at least one. */
function allShow(fake: FakeSlack, id: string, word: string): FakeMessage[] | false {
  const msgs = [...fake.messages.values()].filter((m) => !m.deleted && forAction(id)(m) && m.channel.startsWith('C'));
  return msgs.length > 0 && msgs.every((m) => !hasButtons(m) && shows(m, word)) && msgs;
}

describe('card reconciliation in one process (Slack faked at the Web API)', () => {
  let fake: FakeSlack;
  let t: TestService;

  beforeAll(async () => {
    fake = await FakeSlack.start({
      teamId: TEAM,
      channels: [ON_500, ON_LATE, ON_429, NO_SCOPE].map((id) => ({ id, name: id.toLowerCase() })),
      users: [{ id: 'U0ERIN001', team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true }],
    });
    const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8');
    t = await startTestService({
      policy: `${fixture.trimEnd()}\n${rule('accepted', ON_500)}${rule('late', ON_LATE)}${rule('limited', ON_429)}${rule('noscope', NO_SCOPE)}`,
      modules: [slackModule, workerModule],
      env: {
        SLACK_BOT_TOKEN: fake.token,
        SLACK_SIGNING_SECRET: 'reconcile-signing-secret-0123',
        SLACK_TEAM_ID: TEAM,
        SLACK_API_URL: fake.url,
        COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
        COUNTERSIGN_OUTBOX_POLL_MS: '250',
        COUNTERSIGN_SWEEP_SECONDS: '3600',
        COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0',
        // The late answer (below) outlasts this; the post-cards retry comes at least this long
        // after the post, so the cancel sent as the post arrives lands well before it.
        SLACK_API_TIMEOUT_MS: '4000',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await fake?.close();
  });

  async function submit(type: string): Promise<string> {
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type, resource: `db/${type}` } } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe('pending');
    return res.body.id as string;
  }
  const cancel = async (id: string) => expect((await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'], body: { reason: 'not needed' } })).status).toBe(200);
  const cardRows = (id: string) => t.prisma.channelCard.findMany({ where: { actionId: id, NOT: { target: { startsWith: 'notice/' } } } });
  const decidedAt = async (id: string) => (await t.prisma.action.findUniqueOrThrow({ where: { id } })).decidedAt!.getTime();
  /** The decision is sent as the post arrives, so it lands before any retry of the post. */
  function cancelOnPost(channel: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let armed = true;
      fake.onArrive((call) => {
        if (!armed || call.method !== 'chat.postMessage' || call.args.channel !== channel) return;
        armed = false;
        const id = /countersign:approve:([A-Za-z0-9_]+)/.exec(JSON.stringify(call.args.blocks))?.[1];
        if (!id) return reject(new Error('no action id on the card'));
        cancel(id).then(resolve, reject);
      });
    });
  }

  it('Slack took the post and answered 500, the action was decided before the retry: the card shows the outcome, its row is posted', async () => {
    let answer!: () => void;
    fake.script('chat.postMessage', { accept: true, status: 500, until: new Promise<void>((r) => (answer = r)), match: (args) => args.channel === ON_500 });
    const decided = cancelOnPost(ON_500);
    const id = await submit('reconcile.accepted');
    await decided;
    answer();

    const [card] = await waitFor('the card shows the outcome', () => allShow(fake, id, 'Cancelled'), 30_000);
    expect(fake.cardsIn(ON_500).filter(forAction(id))).toHaveLength(1);
    const rows = await waitFor('the row is final', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'posted' && r;
    }, 30_000);
    expect(rows[0]!.messageRef).toEqual({ channel: ON_500, ts: card!.ts });
    // It was found by its card id after the decision, not adopted by a retry of the post.
    const looks = fake.callsTo('conversations.history').filter((c) => c.args.channel === ON_500);
    expect(looks.length).toBeGreaterThanOrEqual(1);
    expect(looks[0]!.at).toBeGreaterThanOrEqual(await decidedAt(id));
    expect(card!.history.length).toBeGreaterThanOrEqual(2); // posted live, then updated
  });

  it('Slack took the post and answered after the client gave up (a timeout), decided before the retry: the card shows the outcome, its row is posted', async () => {
    fake.script('chat.postMessage', { lateMs: 6_000, match: (args) => args.channel === ON_LATE });
    const decided = cancelOnPost(ON_LATE);
    const id = await submit('reconcile.late');
    await decided;

    const [card] = await waitFor('the card shows the outcome', () => allShow(fake, id, 'Cancelled'), 30_000);
    expect(fake.cardsIn(ON_LATE).filter(forAction(id))).toHaveLength(1);
    const rows = await waitFor('the row is final', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'posted' && r;
    }, 30_000);
    expect(rows[0]!.messageRef).toEqual({ channel: ON_LATE, ts: card!.ts });
    const looks = fake.callsTo('conversations.history').filter((c) => c.args.channel === ON_LATE);
    expect(looks[0]!.at).toBeGreaterThanOrEqual(await decidedAt(id));
  });

  it('a post that certainly did not go out (429), decided before the retry: the row records that no card exists', async () => {
    fake.rateLimitNext('chat.postMessage', 30, 1, (args) => args.channel === ON_429);
    const id = await submit('reconcile.limited');
    await waitFor('the 429', () => fake.callsTo('chat.postMessage').some((c) => c.args.channel === ON_429 && c.status === 429));
    await waitFor('the row given back', async () => (await cardRows(id))[0]?.state === 'retry');
    await cancel(id);

    const [row] = await waitFor('the row is final', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'absent' && r;
    }, 30_000);
    expect(row!.messageRef).toBeNull();
    expect(fake.cardsIn(ON_429).filter(forAction(id))).toHaveLength(0);
  });

  it('a card in doubt that Slack will not let us look for (missing_scope): recorded as unverified, never left in doubt', async () => {
    let answer!: () => void;
    fake.script('chat.postMessage', { accept: true, status: 500, until: new Promise<void>((r) => (answer = r)), match: (args) => args.channel === NO_SCOPE });
    fake.failNext('conversations.history', 'missing_scope', 1, (args) => args.channel === NO_SCOPE);
    const decided = cancelOnPost(NO_SCOPE);
    const id = await submit('reconcile.noscope');
    await decided;
    answer();

    const [row] = await waitFor('the row is final', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'unverified' && r;
    }, 30_000);
    expect(row!.error).toMatch(/missing_scope/);
  });
});

describe('a channel that cannot look for a message (no findCard, as Teams)', () => {
  const startQueue = queueTestsPerCase();

  it('a card in doubt when the action is decided is recorded unverified, and nothing is posted again', async () => {
    const teams = new ScriptedChannel('teams', { find: false });
    const t = await startQueue({ modules: [channelModule(teams)] });
    // The first card is taken by the chat service, the action is cancelled while that post is
    // in flight, and then its answer is lost.
    let cancelled: ReturnType<typeof t.api> | undefined;
    teams.loseAnswers = 1;
    teams.duringPost = async () => {
      if (cancelled) return;
      const id = [...teams.messages.values()].at(-1)!.card.actionId;
      cancelled = t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'], body: { reason: 'not needed' } });
      expect((await cancelled).status).toBe(200);
    };
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: queueIntents.cards });
    expect(res.status).toBe(201);
    const id = res.body.id as string;

    const rows = await waitFor('every card row final', async () => {
      const r = await t.prisma.channelCard.findMany({ where: { actionId: id, NOT: { target: { startsWith: 'notice/' } } }, orderBy: { target: 'asc' } });
      return r.length === 2 && r.every((x) => ['posted', 'unverified'].includes(x.state)) && r;
    }, 30_000);
    const lost = teams.eventsOf('post')[0]!;
    // Both sides in JavaScript's order (Postgres' collation may order '@' and digits otherwise).
    rows.sort((a, b) => a.target.localeCompare(b.target));
    expect(rows.map((r) => [r.target, r.state])).toEqual(
      [[lost.target, 'unverified'], ...rows.filter((r) => r.target !== lost.target).map((r) => [r.target, 'posted'])].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(rows.find((r) => r.target === lost.target)!.error).toMatch(/cannot look/);
    // The card confirmed shows the outcome; the one in doubt was not posted again.
    await waitFor('the posted card shows the outcome', () => teams.live(id).some((m) => m.target !== lost.target && m.card.status === 'cancelled' && !m.card.actionable));
    expect(teams.eventsOf('post').filter((e) => e.target === lost.target)).toHaveLength(1);
  });
});

describe('a worker process killed mid-post (two worker processes, Slack faked at the Web API)', () => {
  let dir: string;
  let fake: FakeSlack;
  let api: TestService;
  let cluster: WorkerCluster;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-reconcile-'));
    const config = recoveryConfig(dir);
    const signingKey = newSigningKey();
    const prefix = randomQueuePrefix();
    fake = await recoverySlack();
    // The API in this process; the queue runs only in the worker processes.
    api = await startTestService({ policy: config.policyText, role: 'api', env: { COUNTERSIGN_SIGNING_KEY: signingKey, COUNTERSIGN_QUEUE_PREFIX: prefix } });
    cluster = new WorkerCluster({
      databaseUrl: api.databaseUrl,
      redisUrl: redisUrlForTests(),
      prefix,
      slack: fake,
      signingKey,
      policy: config.policy,
      directory: config.directory,
      keysDir: path.join(dir, 'keys'),
    });
    await Promise.all([cluster.start(), cluster.start()]);
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
    await api?.stop();
    await fake?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function submit(n: string): Promise<string> {
    const res = await api.api('POST', '/v1/actions', { token: api.tokens['deploy-bot'], body: recoveryIntent(n) });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }
  const cardRows = (id: string) => api.prisma.channelCard.findMany({ where: { actionId: id, NOT: { target: { startsWith: 'notice/' } } } });

  it('killed before Slack took the card, the action still pending: the surviving worker posts it, once', async () => {
    const killing = cluster.killOnPost((args) => args.channel === RECOVERY_CHANNEL, { accepted: false });
    const id = await submit('pending');
    const { worker: killed } = await killing;

    // A deadline only against hanging: the figure is the bench's.
    const posted = await waitFor('the card from the surviving worker', () => fake.calls.find((c) => isCardPost(c, id)), 120_000, 100);
    expect(posted.token).not.toBe(killed.token);
    expect(cluster.byToken(posted.token)).toBeDefined();
    const rows = await waitFor('the row posted', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'posted' && r;
    }, 60_000);
    expect(rows[0]!.messageRef).toEqual({ channel: RECOVERY_CHANNEL, ts: posted.response.ts });
    expect(fake.calls.filter((c) => isCardPost(c, id))).toHaveLength(1);
    expect(fake.cardsIn(RECOVERY_CHANNEL).filter(forAction(id))).toHaveLength(1);
    await cluster.start(); // two workers again for the next case
  }, 300_000);

  it('killed after Slack took the card, the action decided before any retry: the card shows the outcome, its row is posted', async () => {
    const killing = cluster.killOnPost((args) => args.channel === RECOVERY_CHANNEL, { accepted: true });
    const id = await submit('decided');
    const { worker: killed } = await killing;
    expect((await api.api('POST', `/v1/actions/${id}/cancel`, { token: api.tokens['deploy-bot'], body: { reason: 'not needed' } })).status).toBe(200);

    const [card] = await waitFor('the card shows the outcome', () => allShow(fake, id, 'Cancelled'), 120_000, 100);
    expect(fake.cardsIn(RECOVERY_CHANNEL).filter(forAction(id))).toHaveLength(1);
    // Posted by the killed worker, updated by the surviving one.
    const posts = fake.callsTo('chat.postMessage').filter((c) => c.args.channel === RECOVERY_CHANNEL && JSON.stringify(c.args.blocks).includes(id));
    expect(posts.map((c) => c.token)).toEqual([killed.token]);
    const updates = fake.okCallsTo('chat.update').filter((c) => c.args.ts === card!.ts);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.every((c) => c.token !== killed.token)).toBe(true);
    const rows = await waitFor('the row is final', async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'posted' && r;
    }, 60_000);
    expect(rows[0]!.messageRef).toEqual({ channel: RECOVERY_CHANNEL, ts: card!.ts });
  }, 300_000);
});
