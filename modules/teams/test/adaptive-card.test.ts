import { describe, expect, it } from 'vitest';
import type { CardModel } from '@countersign/core';
import { APPROVE_REASON_INPUT, buildAdaptiveCard, buildWithheldCard, CARD_BYTE_BUDGET, CARD_VERSION, DENY_REASON_INPUT, shorten } from '../src/cards/adaptive-card.ts';
import { validateAdaptiveCard } from './validate-card.ts';
import { buildCardModel } from '@countersign/core';
import { EMPTY_DIRECTORY, HOSTILE_TEXT, hostileAction } from '../../../test/fakes/hostile-intent.ts';
import { texts } from './card-texts.ts';

// The Teams card is a pure function of the engine's CardModel; every variant is validated
// with the adaptivecards library's own parser.

function cardModel(overrides: Partial<CardModel> = {}): CardModel {
  return {
    actionId: 'act_01TEST',
    status: 'pending',
    title: 'Delete prod-eu-1',
    actionType: 'environment.delete',
    resource: 'env/prod-eu-1',
    featured: [],
    params: [
      { key: 'region', value: 'eu-1' },
      { key: 'token', value: '[redacted]' },
    ],
    moreParams: 0,
    fullRequestPath: '/console/actions/act_01TEST',
    intentHashPrefix: '3f9a1c0b7e22',
    who: { actor: 'Deploy bot (deploy-bot)', actorKind: 'agent', owner: 'Erin (erin)', onBehalfOf: null },
    where: [{ key: 'environment', value: 'production' }],
    risk: { class: 'destructive', urgency: 'high' },
    authority: [{ key: 'changeTicket', value: 'CHG-1234' }],
    justification: 'region decommissioned',
    ruleIds: ['prod-delete'],
    reasons: ['production deletion needs an SRE lead and security'],
    requirement: {
      groups: [
        { role: 'sre-lead', count: 1 },
        { role: 'security', count: 1 },
      ],
      filled: 0,
      needed: 2,
      stillNeeds: '1 sre-lead and 1 security',
      approvalReasonRequired: false,
    },
    votes: [],
    expiresAt: '2026-05-01T10:30:00.000Z',
    outcome: null,
    actionable: true,
    markedCharacters: false,
    ...overrides,
  };
}

type Card = {
  version: string;
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
  refresh?: { action: Record<string, unknown> };
};

const build = (m: CardModel, view?: Parameters<typeof buildAdaptiveCard>[1]) => buildAdaptiveCard(m, view) as unknown as Card;
const text = (x: unknown) => JSON.stringify(x);

describe('buildAdaptiveCard', () => {
  it('renders a pending card: every field of the model, Approve/Deny as Universal Actions, a refresh', () => {
    const card = build(cardModel());
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(card.version).toBe(CARD_VERSION);
    const all = text(card);
    for (const shown of [
      'Approval needed',
      'Delete prod-eu-1',
      'environment.delete',
      'env/prod-eu-1',
      'Deploy bot (deploy-bot) (agent)',
      'Erin (erin)',
      'destructive · urgency high',
      '2026-05-01 10:30 UTC',
      'region',
      '[redacted]',
      'production',
      'CHG-1234',
      'region decommissioned',
      'prod-delete: production deletion needs an SRE lead and security',
      'Approvals: 0 of 2 (1 sre-lead + 1 security, distinct people) · still needs 1 sre-lead and 1 security',
      'act_01TEST',
    ]) {
      expect(all).toContain(shown);
    }
    const [approve, deny] = card.actions!;
    expect(approve).toMatchObject({ type: 'Action.Execute', verb: 'approve', data: { actionId: 'act_01TEST' } });
    expect(deny).toMatchObject({ type: 'Action.ShowCard' });
    const denyCard = deny!.card as Card;
    expect(denyCard.body[0]).toMatchObject({ type: 'Input.Text', id: DENY_REASON_INPUT, isRequired: true });
    expect(denyCard.actions![0]).toMatchObject({ type: 'Action.Execute', verb: 'deny', data: { actionId: 'act_01TEST' } });
    expect(card.refresh!.action).toMatchObject({ type: 'Action.Execute', verb: 'refresh', data: { actionId: 'act_01TEST' } });
  });

  it('asks for an approval reason when the rule requires one', () => {
    const m = cardModel();
    const card = build({ ...m, requirement: { ...m.requirement!, approvalReasonRequired: true } });
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const approve = card.actions![0]!;
    expect(approve).toMatchObject({ type: 'Action.ShowCard' });
    const approveCard = approve.card as Card;
    expect(approveCard.body[0]).toMatchObject({ type: 'Input.Text', id: APPROVE_REASON_INPUT, isRequired: true });
    expect(approveCard.actions![0]).toMatchObject({ type: 'Action.Execute', verb: 'approve' });
    expect(text(card)).toContain('requires a reason with each approval');
  });

  it('shows the votes so far', () => {
    const card = build(
      cardModel({
        votes: [{ person: 'Alice (alice)', decision: 'approve', reason: 'runbook checked', channel: 'slack', at: '2026-05-01T10:05:00.000Z' }],
        requirement: { ...cardModel().requirement!, filled: 1, stillNeeds: '1 security' },
      }),
    );
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(text(card)).toContain('approved by Alice (alice) via slack, 2026-05-01 10:05 UTC"},{"type":"TextRun","text":": “runbook checked”"');
    expect(text(card)).toContain('Approvals: 1 of 2');
  });

  it.each([
    ['approved', 'Approved by Bob (bob)', 'Good'],
    ['refused', 'Denied by Bob (bob): customer data still there', 'Attention'],
    ['expired', 'Expired: not approved in time, so refused', 'Attention'],
    ['cancelled', 'Cancelled by the requester', 'Default'],
  ] as const)('renders a %s card: outcome, who and when, no actions, no refresh', (status, outcomeText, color) => {
    const card = build(cardModel({ status, actionable: false, outcome: { status, by: 'bob', at: '2026-05-01T10:10:00.000Z', text: outcomeText, headline: outcomeText, reason: null } }));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(card.actions).toBeUndefined();
    expect(card.refresh).toBeUndefined();
    expect(text(card)).toContain(`${outcomeText} · 2026-05-01 10:10 UTC`);
    expect(text(card.body[0])).toContain(`"color":"${color}"`);
    expect(text(card)).not.toContain('Expires');
  });

  it('puts a per-user notice on top and can hide the buttons for that user', () => {
    const card = build(cardModel(), { notice: { text: 'You requested this action; someone else must decide it.', tone: 'attention' }, hideActions: true });
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(card.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
    expect(text(card.body[0])).toContain('You requested this action');
    expect(card.actions).toBeUndefined();
    // Still pending: Teams keeps refreshing it for this viewer.
    expect(card.refresh).toBeDefined();
  });

  it('leaves out what the model does not have', () => {
    const card = build(
      cardModel({ resource: null, params: [], where: [], authority: [], justification: null, who: { actor: 'Alice (alice)', actorKind: 'person', owner: null, onBehalfOf: null }, risk: { class: null, urgency: null }, expiresAt: null }),
    );
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const all = text(card);
    for (const absent of ['Resource', 'Parameters', 'Where', 'Authority', 'Justification', 'Agent owner', 'Risk', 'Expires', '(agent)']) expect(all).not.toContain(absent);
  });

  it('keeps caller text as written but never as a link (TextRuns are not Markdown)', () => {
    const card = build(cardModel({ title: '[Approve here](https://evil.example)', justification: 'see [ref][1]\n\n[1]: https://evil.example', params: [{ key: 'k', value: '[x](https://evil.example)' }] }));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    // The caller's words are TextRuns (never Markdown); no Markdown text carries link syntax.
    const { markdown, runs } = texts(card);
    expect(markdown.join('\n')).not.toMatch(/\]\(|\]\[|\]:/);
    expect(runs).toContain('“[Approve here](https://evil.example)”');
    expect(runs).toContain(': [x](https://evil.example)');
  });

  it('is a pure function of the model', () => {
    const m = cardModel();
    expect(buildAdaptiveCard(m)).toEqual(buildAdaptiveCard(structuredClone(m)));
    expect(m).toEqual(cardModel());
  });
});

/**
 * The largest card a valid request can produce: the intent's limits (summary and resource 500
 * characters, justification 2000, keys 100, any number of attributes within the 64 KB body),
 * long reasons from the policy and the voters, many votes, a long outcome and a notice.
 */
function hugeModel(fill: (n: number) => string, overrides: Partial<CardModel> = {}): CardModel {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `${i}-${fill(96)}`, value: fill(200) }));
  const base = cardModel();
  return cardModel({
    title: fill(500),
    resource: fill(500),
    actionType: `a.${fill(100).replace(/[^a-z]/g, 'a')}`,
    params: rows(12),
    who: { actor: fill(200), actorKind: 'agent', owner: fill(200), onBehalfOf: fill(200) },
    where: rows(300),
    authority: rows(300),
    risk: { class: fill(60), urgency: 'critical' },
    justification: fill(2000),
    ruleIds: Array.from({ length: 30 }, (_, i) => `rule-${i}`),
    reasons: Array.from({ length: 30 }, () => fill(500)),
    requirement: { ...base.requirement!, approvalReasonRequired: true },
    votes: Array.from({ length: 40 }, (_, i) => ({ person: fill(200), decision: i % 2 ? 'deny' : 'approve', reason: fill(2000), channel: 'teams', at: '2026-05-01T10:05:00.000Z' })),
    ...overrides,
  });
}

const bytes = (card: unknown) => Buffer.byteLength(JSON.stringify(card), 'utf8');

describe('card size', () => {
  // Teams refuses messages above about 28 KB (413): such a card would never be shown.
  const fills: [string, (n: number) => string][] = [
    ['plain text', (n) => 'x'.repeat(n)],
    ['link syntax (a zero-width space per "]")', (n) => ']'.repeat(n)],
    ['characters JSON escapes', (n) => '\u0001'.repeat(n)],
    ['emoji', (n) => '🚀'.repeat(Math.floor(n / 2))],
  ];

  it.each(fills)('keeps the largest possible pending card under 25 KB and valid (%s)', (_what, fill) => {
    const view = { notice: { text: 'This action needs 1 sre-lead and 1 security; you hold none of these roles.', tone: 'attention' as const } };
    const card = build(hugeModel(fill), view);
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BYTE_BUDGET);
    expect(bytes(card)).toBeLessThan(25_000);
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    // Still a card to decide on: the buttons, the action id, the notice for the viewer.
    expect(card.actions).toHaveLength(2);
    expect(text(card)).toContain('act_01TEST');
    expect(text(card)).toContain('you hold none of these roles');
  });

  it.each(fills)('keeps the largest possible final card under 25 KB and valid (%s)', (_what, fill) => {
    const card = build(hugeModel(fill, { status: 'refused', actionable: false, outcome: { status: 'refused', by: 'bob', at: '2026-05-01T10:10:00.000Z', text: `Denied by Bob (bob): ${fill(2000)}`, headline: 'Denied by Bob (bob)', reason: fill(2000) } }));
    expect(bytes(card)).toBeLessThanOrEqual(CARD_BYTE_BUDGET);
    expect(bytes(card)).toBeLessThan(25_000);
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(text(card)).toContain('Denied by Bob (bob)');
  });

  it('caps each fact list at 12 rows and says how many more there are', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `attr${i}`, value: `value ${i}` }));
    const card = build(cardModel({ where: rows(300), authority: rows(13) }));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const factSets = card.body.filter((b) => b.type === 'FactSet') as { facts: unknown[] }[];
    // Our own facts only; resource and risk are the caller's words, inert rows like the rest.
    expect(factSets.map((f) => f.facts.length)).toEqual([4]);
    // Resource, risk, params, where and authority are the caller's words: one inert row each.
    expect(card.body.filter((b) => b.type === 'RichTextBlock' && b.spacing === 'None')).toHaveLength(2 + 2 + 12 + 12);
    expect(text(card)).toContain('and 288 more entries not shown');
    expect(text(card)).toContain('and 1 more entries not shown');
    expect(text(card)).toContain('value 11');
    expect(text(card)).not.toContain('value 12"');
  });

  it('shows a request of ordinary size in full', () => {
    const m = cardModel({ justification: 'j'.repeat(900), votes: Array.from({ length: 3 }, () => ({ person: 'Alice (alice)', decision: 'approve' as const, reason: 'r'.repeat(250), channel: 'teams', at: '2026-05-01T10:05:00.000Z' })) });
    const all = text(build(m));
    expect(all).toContain('j'.repeat(900));
    expect(all).toContain('r'.repeat(250));
    expect(all).not.toContain('not shown');
  });

  it('shortens with an ellipsis, never splitting a character', () => {
    expect(shorten('abcdef', 6)).toBe('abcdef');
    expect(shorten('abcdef', 4)).toBe('abc…');
    expect(shorten('ab🚀cd', 4)).toBe('ab…');
  });
});

describe('validateAdaptiveCard', () => {
  it('catches what Teams would not render', () => {
    const problems = validateAdaptiveCard({
      type: 'AdaptiveCard',
      version: '1.5',
      body: [
        { type: 'Input.Text', id: 'a' },
        { type: 'Input.Text', id: 'a' },
        { type: 'TextBlock', text: 'x', color: 'Purple' },
      ],
      actions: [{ type: 'Action.Execute', verb: 'approve', title: 'Approve', sparkle: true }],
    });
    expect(problems.join('\n')).toMatch(/Duplicate Id "a"/);
    expect(problems.join('\n')).toMatch(/Invalid value "Purple"/);
    expect(problems.join('\n')).toMatch(/sparkle was dropped/);
  });
});

describe('buildAdaptiveCard: a card never hides what matters', () => {
  const card = build(buildCardModel(hostileAction({ feature: ['params.amount', 'params.payee', 'params.iban', 'params.note'] }), [], EMPTY_DIRECTORY), undefined);
  const linked = buildAdaptiveCard(buildCardModel(hostileAction(), [], EMPTY_DIRECTORY), {}, { publicUrl: 'https://gate.example.com' });
  const { markdown, runs } = texts(card);
  const all = text(card);

  it('is valid and shows the featured fields first, before the numeric-looking keys', () => {
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const amount = all.indexOf('"amount"');
    expect(amount).toBeGreaterThan(-1);
    expect(all.indexOf('"payee"')).toBeGreaterThan(amount);
    expect(all.indexOf(': \\"GB33BUKB20201555555555\\"')).toBeGreaterThan(amount);
    expect(all.indexOf('"0"')).toBeGreaterThan(all.indexOf(': \\"GB33BUKB20201555555555\\"'));
  });

  it('counts what it does not show and links to the full request', () => {
    expect(markdown).toContain('+38 more fields — open the full request in the console at /console/actions/act_hostile');
    expect(text(linked)).toContain('+38 more fields — [open the full request](https://gate.example.com/console/actions/act_hostile)');
  });

  it('shows the intent hash prefix and cuts long values visibly', () => {
    expect(markdown).toContain('Intent sha256 3f9a1c0b7e22… (what the release token binds)');
    expect(runs).toContain(`: "${'x'.repeat(199)}…(+1,236 chars)`);
  });

  it("renders the agent's markup inert: only ever in TextRuns, labelled as the agent's", () => {
    for (const hostile of HOSTILE_TEXT) {
      expect(runs.some((r) => r.includes(hostile)), hostile).toBe(true);
      expect(markdown.some((t) => t.includes(hostile)), hostile).toBe(false);
    }
    expect(runs).toContain('The agent says: ');
    // The heading is ours: the action type, never the agent's summary.
    expect(markdown).toContain('payment.send');
  });

  it('keeps the featured fields even at the smallest size limits', () => {
    const huge = buildCardModel(hostileAction(), [], EMPTY_DIRECTORY);
    const squeezed = build({ ...huge, where: Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: '\u0001'.repeat(200) })), justification: '\u0001'.repeat(2000) });
    expect(bytes(squeezed)).toBeLessThanOrEqual(CARD_BYTE_BUDGET);
    expect(text(squeezed)).toContain(': \\"GB33BUKB20201555555555\\"');
    expect(text(squeezed)).toContain('more fields');
  });
});

describe('buildWithheldCard', () => {
  it('is a valid card with no action, no refresh and nothing but the notice about the viewer', () => {
    const card = buildWithheldCard({ text: 'You are not in the countersign directory.', tone: 'attention' });
    expect(validateAdaptiveCard(card)).toEqual([]);
    expect(card.actions).toBeUndefined();
    expect(card.refresh).toBeUndefined();
    expect(JSON.stringify((card.body as unknown[])[0])).toContain('You are not in the countersign directory.');
    expect(JSON.stringify(card)).toContain("You can't view this request");
    expect(buildWithheldCard().body).toHaveLength(2);
  });
});
