import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError, identityOn, type ChannelDefinition, type VoteDecision } from '@countersign/contracts';
import { identityDirectory, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget, type ConfigView, type Notice } from '@countersign/core';
import type { ServiceModule } from '@countersign/modules';
import { workerModule } from '@countersign/worker';
import { installedChannels } from '../apps/cli/src/channels.ts';
import { modules as installedModules } from '../apps/server/src/modules.ts';
import { waitFor } from './fakes/fake-channel.ts';
import { randomQueuePrefix } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// Channels are plug-ins: a test-only "pager" registers its name, its own schemas for a rule's
// hints (on-call schedules) and a person's identity (a pager handle), its ApprovalChannel and
// its own inbound route for acknowledgements, through a module handed to the service, and
// gets cards, updates, reminders and votes without a line of shared code knowing it.

const pagerChannel: ChannelDefinition<{ handle: string }> = {
  name: 'pager',
  hints: z.array(z.string().regex(/^oncall:[a-z-]+$/, 'pager places are on-call schedules: oncall:<team>')),
  identity: z.strictObject({ handle: z.string().regex(/^@[a-z]+$/, 'a pager handle is @ and lowercase letters') }),
  identityKey: (identity) => ({ key: identity.handle, path: ['handle'], label: `pager handle ${identity.handle}` }),
};

interface Page {
  id: string;
  target: string;
  card: CardModel;
  reminders: string[];
}

/** The pager service as the test sees it: every page it was asked to send, as it now reads. */
class Pager implements ApprovalChannel {
  readonly name = pagerChannel.name;
  readonly pages = new Map<string, Page>();
  readonly notices: { personId: string; text: string }[] = [];

  constructor(private readonly config: ConfigView) {}

  private handleOf(personId: string): string | undefined {
    const person = this.config.current().directory.person(personId);
    return person && identityOn(pagerChannel, person)?.handle;
  }

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    const people = hints.people.flatMap((personId) => {
      const handle = this.handleOf(personId);
      // No pager handle: asked in other channels, not a mistake.
      return handle ? [{ target: handle, personId }] : [];
    });
    return [...hints.channels.map((schedule) => ({ target: schedule })), ...people];
  }

  async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    const id = `page-${this.pages.size + 1}`;
    this.pages.set(id, { id, target: target.target, card, reminders: [] });
    return { pageId: id };
  }

  async updateCard(card: CardModel, ref: CardRef): Promise<void> {
    this.pages.get(String(ref.pageId))!.card = card;
  }

  async remind(_card: CardModel, ref: CardRef, text: string): Promise<void> {
    this.pages.get(String(ref.pageId))!.reminders.push(text);
  }

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    if (!this.handleOf(personId)) return false;
    this.notices.push({ personId, text: notice.text });
    return true;
  }

  of(actionId: string): Page[] {
    return [...this.pages.values()].filter((p) => p.card.actionId === actionId);
  }
}

const PAGER_TOKEN = 'pager-webhook-token';
const AckSchema = z.strictObject({
  actionId: z.string(),
  handle: z.string(),
  decision: z.enum(['approve', 'deny']),
  /** Absent: the pager asks whether to prompt for a reason (the engine's dry run). */
  reason: z.string().nullable().optional(),
});

let pager: Pager | undefined;

/** The pager as a service module: what a real e-mail or paging plug-in would look like. */
const pagerModule: ServiceModule = {
  name: 'pager',
  channels: [pagerChannel],
  register(ctx) {
    pager = new Pager(ctx.config);
    ctx.channels.set(pager.name, pager);
    // Acknowledgements: the pager's own authenticity, its identity → one directory person,
    // then the engine decides (a dry run before prompting for a reason, else the vote).
    ctx.app.post('/pager/acks', async (request, reply) => {
      if (request.headers['x-pager-token'] !== PAGER_TOKEN) return reply.code(401).send({ error: 'unauthenticated' });
      const ack = AckSchema.parse(request.body);
      const person = identityDirectory(ctx.config.current().directory).personByIdentity(pagerChannel.name, ack.handle);
      if (!person) return reply.code(403).send({ refused: 'unknown_identity' });
      const decision: VoteDecision = ack.decision;
      if (ack.reason === undefined) {
        const check = await ctx.gate.checkVote({ actionId: ack.actionId, personId: person.id, decision, reason: undefined });
        return check.allowed ? { prompt: 'reason' } : reply.code(409).send({ refused: check.refusal.code, message: check.refusal.message });
      }
      try {
        const result = await ctx.gate.vote({ actionId: ack.actionId, personId: person.id, channel: pagerChannel.name, decision, reason: ack.reason });
        return { recorded: true, decided: result.decided };
      } catch (err) {
        if (err instanceof DomainError) return reply.code(409).send({ refused: err.code, message: err.message });
        throw err;
      }
    });
  },
};

const POLICY = `version: 1
rules:
  - id: paged-restart
    when: 'action.type == "service.restart"'
    outcome: escalate
    reason: restarts are paged to on-call
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        pager: ['oncall:platform']
        people: [bob, carol]
        reminders: [5m]
`;

const DIRECTORY = `version: 1
people:
  - { id: alice, name: Alice, email: alice@example.com, roles: [sre-lead], pager: { handle: '@alice' } }
  - { id: bob, name: Bob, email: bob@example.com, roles: [security], pager: { handle: '@bob' } }
  - { id: carol, name: Carol, email: carol@example.com, roles: [security] }
  - { id: erin, name: Erin, email: erin@example.com, roles: [sre-lead], pager: { handle: '@erin' } }
agents:
  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer] }
`;

const RESTART = { action: { type: 'service.restart', resource: 'svc/payments', summary: 'Restart payments' } };

let t: TestService;

beforeAll(async () => {
  t = await startTestService({
    policy: POLICY,
    directory: DIRECTORY,
    modules: [pagerModule, workerModule],
    env: { COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(), COUNTERSIGN_SWEEP_SECONDS: '1', COUNTERSIGN_OUTBOX_POLL_MS: '250' },
  });
});
afterAll(async () => {
  await t?.stop();
});

function ack(body: Record<string, unknown>, token = PAGER_TOKEN) {
  return t.api('POST', '/pager/acks', { body, headers: { 'x-pager-token': token } });
}

describe('a third channel, registered by a module', () => {
  it("loads rules and people that name it, with its own schemas, beside the installed channels", () => {
    const catalog = t.service.context.channelCatalog;
    expect(catalog.has('pager')).toBe(true);
    expect(catalog.names).toEqual(expect.arrayContaining(['slack', 'teams', 'pager']));
    const person = t.service.context.config.current().directory.person('bob')!;
    expect(identityOn(pagerChannel, person)).toEqual({ handle: '@bob' });
  });

  it('pages the schedule and the people it can reach, reminds, takes acknowledgements as votes and shows the outcome', async () => {
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: RESTART });
    expect(res.body.status).toBe('pending');
    const id = res.body.id as string;
    const p = pager!;
    // The schedule, and bob by his pager handle; carol has none, so the pager does not ask her.
    await waitFor('pages', () => p.of(id).length === 2, 15_000);
    expect(p.of(id).map((page) => page.target).sort()).toEqual(['@bob', 'oncall:platform']);
    expect(p.of(id)[0]!.card).toMatchObject({ status: 'pending', actionable: true, requirement: { filled: 0, needed: 2 } });

    t.clock.advance(5 * 60_000 + 1_000);
    await waitFor('reminders', () => p.of(id).every((page) => page.reminders.length === 1), 15_000);
    expect(p.of(id)[0]!.reminders[0]).toMatch(/still waiting for a decision/);

    // The dry run before a reason prompt, then the vote: both the engine's words.
    expect((await ack({ actionId: id, handle: '@erin', decision: 'deny' })).body).toMatchObject({ refused: 'self_approval', message: expect.stringMatching(/You own the agent/) });
    expect((await ack({ actionId: id, handle: '@bob', decision: 'deny' })).body).toEqual({ prompt: 'reason' });
    expect((await ack({ actionId: id, handle: '@nobody', decision: 'approve', reason: null })).status).toBe(403);
    expect((await ack({ actionId: id, handle: '@alice', decision: 'approve', reason: null }, 'forged')).status).toBe(401);

    expect((await ack({ actionId: id, handle: '@alice', decision: 'approve', reason: null })).body).toEqual({ recorded: true, decided: false });
    await waitFor('pages updated', () => p.of(id).every((page) => page.card.requirement?.filled === 1), 15_000);
    expect((await ack({ actionId: id, handle: '@bob', decision: 'approve', reason: 'checked the dashboards' })).body).toEqual({ recorded: true, decided: true });
    await waitFor('pages show the outcome', () => p.of(id).every((page) => page.card.status === 'approved' && !page.card.actionable), 15_000);
    expect((await t.service.context.store.votesFor(id)).map((v) => [v.personId, v.channel])).toEqual([
      ['alice', 'pager'],
      ['bob', 'pager'],
    ]);
    // The requester (erin owns deploy-bot) is told through the pager too.
    await waitFor('requester told', () => p.notices.some((n) => n.personId === 'erin' && n.text.includes(id)), 15_000);
    expect((await ack({ actionId: id, handle: '@erin', decision: 'approve', reason: null })).body).toMatchObject({ refused: 'already_decided' });
  });
});

describe('fail closed: only installed channels', () => {
  it('a rule naming a channel the service does not install stops it, naming file and line', async () => {
    await expect(startTestService({ policy: POLICY, directory: DIRECTORY.replace(/, pager: \{ handle: '@[a-z]+' \}/g, '') })).rejects.toThrow(
      /policy\.yaml:11:9: rules\[0\]\.requirement\.channels\.pager: unknown key/,
    );
  });

  it('a person with an identity on a channel the service does not install stops it, naming file and line', async () => {
    await expect(startTestService({ directory: DIRECTORY })).rejects.toThrow(/directory\.yaml:3:76: people\[0\]\.pager: unknown key/);
  });

  it("a channel's own schemas check its places and identities", async () => {
    await expect(startTestService({ policy: POLICY.replace("'oncall:platform'", "'#platform'"), directory: DIRECTORY, modules: [pagerModule] })).rejects.toThrow(
      /policy\.yaml:11:\d+: .*channels\.pager\[0\]: pager places are on-call schedules/,
    );
    await expect(startTestService({ policy: POLICY, directory: DIRECTORY.replace("'@bob'", "'bob'"), modules: [pagerModule] })).rejects.toThrow(
      /directory\.yaml:4:\d+: people\[1\]\.pager\.handle: a pager handle is @/,
    );
    await expect(startTestService({ policy: POLICY, directory: DIRECTORY.replace("'@bob'", "'@alice'"), modules: [pagerModule] })).rejects.toThrow(
      /directory\.yaml:4:\d+: pager handle @alice is also used by person "alice"/,
    );
  });

  it('an implementation registered without its definition stops the service', async () => {
    const undeclared: ServiceModule = { name: 'undeclared', register: (ctx) => void ctx.channels.set('pager', new Pager(ctx.config)) };
    await expect(startTestService({ modules: [undeclared] })).rejects.toThrow(/channel "pager" was registered by a module that does not declare it/);
  });
});

describe('one list of installed channels', () => {
  it("the CLI knows the channels the server's modules declare", () => {
    expect(installedChannels.names.sort()).toEqual(installedModules.flatMap((m) => m.channels ?? []).map((d) => d.name).sort());
  });
});
