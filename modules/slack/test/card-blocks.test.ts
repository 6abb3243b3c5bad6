import { describe, expect, it } from 'vitest';
import type { CardModel } from '@countersign/core';
import { LIMITS, noticeBlocks, parseClick, reminderText, renderCard } from '../src/blocks/card-blocks.ts';
import { buildCardModel } from '@countersign/core';
import { blocksProblem } from '../../../test/fakes/slack-api.ts';
import { EMPTY_DIRECTORY, HOSTILE_TEXT, hostileAction } from '../../../test/fakes/hostile-intent.ts';
import { textObjects } from './text-objects.ts';

function model(overrides: Partial<CardModel> = {}): CardModel {
  return {
    actionId: 'act_123',
    status: 'pending',
    title: 'Delete prod-eu-1',
    actionType: 'environment.delete',
    resource: 'env/prod-eu-1',
    featured: [],
    params: [
      { key: 'region', value: 'eu-1' },
      { key: 'iban', value: '[redacted]' },
    ],
    moreParams: 0,
    fullRequestPath: '/console/actions/act_123',
    intentHashPrefix: '3f9a1c0b7e22',
    who: { actor: 'Deploy bot (deploy-bot)', actorKind: 'agent', owner: 'Erin (erin)', onBehalfOf: 'Frank (frank)' },
    where: [{ key: 'environment', value: 'production' }],
    risk: { class: 'destructive', urgency: 'high' },
    authority: [{ key: 'changeTicket', value: 'CHG-42' }],
    justification: 'region decommissioned',
    ruleIds: ['prod-delete'],
    reasons: ['production deletion needs an SRE lead and security'],
    requirement: {
      groups: [
        { role: 'sre-lead', count: 1 },
        { role: 'security', count: 1 },
      ],
      filled: 1,
      needed: 2,
      stillNeeds: 'security',
      approvalReasonRequired: false,
    },
    votes: [{ person: 'Alice (alice)', decision: 'approve', reason: null, channel: 'slack', at: '2026-01-02T03:04:05.000Z' }],
    expiresAt: '2026-01-02T03:34:05.000Z',
    outcome: null,
    actionable: true,
    markedCharacters: false,
    ...overrides,
  };
}

const text = (card: CardModel) => JSON.stringify(renderCard(card).blocks);

describe('renderCard', () => {
  it('shows what, who, where, risk, authority, justification, rule, progress and expiry', () => {
    const s = text(model());
    for (const part of [
      'Approval needed: environment.delete',
      'The agent says: “Delete prod-eu-1”',
      '`environment.delete` on `env/prod-eu-1`',
      'Intent sha256 `3f9a1c0b7e22…`',
      'region:\\neu-1',
      'iban:\\n[redacted]',
      'Deploy bot (deploy-bot) (agent)',
      '*Agent owner:* Erin (erin)',
      '*On behalf of:* Frank (frank)',
      'environment:\\nproduction',
      '*Risk (as the agent labels it):* `destructive`   *Urgency:* `high`',
      'changeTicket:\\nCHG-42',
      'Justification, the agent says: “region decommissioned”',
      'Rule: `prod-delete`',
      '*Approvals:* 1 of 2: still needs security',
      'approved by Alice (alice)',
      'Expires <!date^1767324845^',
    ]) {
      expect(s).toContain(part);
    }
  });

  it('has Approve and Deny buttons carrying the action id while pending', () => {
    const actions = renderCard(model()).blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string; style: string }[] };
    expect(actions.elements).toEqual([
      expect.objectContaining({ action_id: 'countersign:approve:act_123', value: 'act_123', style: 'primary' }),
      expect.objectContaining({ action_id: 'countersign:deny:act_123', value: 'act_123', style: 'danger' }),
    ]);
  });

  it('once final shows the outcome, who decided and when, and no buttons', () => {
    const card = renderCard(
      model({
        status: 'approved',
        actionable: false,
        requirement: { ...model().requirement!, filled: 2, stillNeeds: '' },
        outcome: { status: 'approved', by: 'bob', at: '2026-01-02T03:10:00.000Z', text: 'Approved by Bob (bob)', headline: 'Approved by Bob (bob)', reason: null },
      }),
    );
    const s = JSON.stringify(card.blocks);
    expect(card.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(s).toContain('Approved: environment.delete');
    expect(s).toContain('*Approved by Bob (bob)* <!date^1767323400^');
    expect(s).toContain('*Approvals:* 2 of 2');
    expect(s).not.toContain('still needs');
    expect(s).not.toContain('Expires');
    expect(card.text).toContain('Approved by Bob (bob)');
  });

  it('says when approvals need a reason', () => {
    expect(text(model({ requirement: { ...model().requirement!, approvalReasonRequired: true } }))).toContain('(approvals need a reason)');
  });

  it("shows the caller's text only as plain_text, so it cannot ping a channel or disguise a link", () => {
    const card = renderCard(model({ title: '<!channel> click <https://evil.test|here> & win', justification: '<@U0ALICE01>' }));
    // The header is plain_text, which Slack never parses for mentions or links.
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    const mrkdwn = JSON.stringify(textObjects(card.blocks).filter((t) => t.type === 'mrkdwn'));
    for (const raw of ['<!channel>', '<https://evil', '<@U0ALICE01>']) expect(mrkdwn).not.toContain(raw);
    expect(JSON.stringify(textObjects(card.blocks).filter((t) => t.type === 'plain_text'))).toContain('<!channel> click <https://evil.test|here> & win');
    expect(card.text).not.toContain('<!channel>');
  });

  it('stays within Block Kit limits for the largest model', () => {
    const long = 'x'.repeat(5000);
    const pairs = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}${long}`, value: long }));
    const huge = model({
      title: long,
      actionType: long,
      resource: long,
      params: pairs,
      where: pairs,
      authority: pairs,
      justification: long,
      ruleIds: Array.from({ length: 30 }, (_, i) => `rule-${i}`),
      reasons: [long, long],
      votes: Array.from({ length: 20 }, () => ({ person: long, decision: 'deny' as const, reason: long, channel: 'slack', at: '2026-01-02T03:04:05.000Z' })),
      actionId: `act_${'y'.repeat(300)}`,
    });
    const card = renderCard(huge);
    expect(card.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    expect(blocksProblem(card.blocks as unknown as Record<string, unknown>[])).toBeNull();
    expect(card.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    // The buttons survive whatever had to be cut.
    expect(card.blocks.at(-1)!.type).toBe('actions');
  });

  it('is pure: the same model gives the same blocks', () => {
    expect(renderCard(model())).toEqual(renderCard(model()));
  });

  it('renders reminders and notices', () => {
    expect(reminderText('Reminder: <!here> waiting')).toBe(':bell: Reminder: &lt;!here&gt; waiting');
    const notice = noticeBlocks('Your request was approved', model({ status: 'approved', outcome: { status: 'approved', by: 'bob', at: null, text: 'Approved by Bob (bob)', headline: 'Approved by Bob (bob)', reason: null } }));
    expect(JSON.stringify(notice.blocks)).toContain('Approved by Bob (bob)');
    expect(notice.text).toBe('Your request was approved');
  });

  it('asks for a reason on the Approve button where the rule requires one, and reads buttons back', () => {
    const card = renderCard(model({ requirement: { ...model().requirement!, approvalReasonRequired: true } }));
    const actions = card.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string }[] };
    expect(actions.elements.map((e) => parseClick(e.action_id))).toEqual([
      { actionId: 'act_123', decision: 'approve', needsReason: true },
      { actionId: 'act_123', decision: 'deny', needsReason: true },
    ]);
    expect(parseClick('countersign:approve:act_9')).toEqual({ actionId: 'act_9', decision: 'approve', needsReason: false });
    expect(parseClick('countersign:approve:')).toBeNull();
    expect(parseClick('something-else')).toBeNull();
  });
});

describe('renderCard: a card never hides what matters', () => {
  const card = renderCard(buildCardModel(hostileAction({ feature: ['params.amount', 'params.payee', 'params.iban', 'params.note'] }), [], EMPTY_DIRECTORY), { publicUrl: 'https://gate.example.com/' });
  const texts = textObjects(card.blocks);
  const at = (needle: string) => texts.findIndex((t) => t.text.includes(needle));

  it('shows the featured fields first, before the numeric-looking keys', () => {
    const amount = at('amount:\n250000');
    expect(amount).toBeGreaterThan(-1);
    expect(at('payee:\n"Mallory Ltd"')).toBeGreaterThan(amount);
    expect(at('iban:\n"GB33BUKB20201555555555"')).toBeGreaterThan(amount);
    expect(at('0:\n"ok"')).toBeGreaterThan(at('iban:\n"GB33BUKB20201555555555"'));
    expect(blocksProblem(card.blocks as unknown as Record<string, unknown>[])).toBeNull();
  });

  it('counts what it does not show and links to the full request', () => {
    // 4 featured + 8 others shown of 50.
    expect(JSON.stringify(card.blocks)).toContain('*+38 more fields* — <https://gate.example.com/console/actions/act_hostile|open the full request>');
  });

  it('shows the intent hash prefix and cuts long values visibly', () => {
    expect(JSON.stringify(card.blocks)).toContain('Intent sha256 `3f9a1c0b7e22…`');
    expect(texts.some((t) => t.text.endsWith(`"${'x'.repeat(199)}…(+1,236 chars)`))).toBe(true);
  });

  it("renders the agent's markup inert: only ever inside plain_text, labelled as the agent's", () => {
    for (const hostile of HOSTILE_TEXT) {
      const holders = texts.filter((t) => t.text.includes(hostile));
      expect(holders.length, hostile).toBeGreaterThan(0);
      for (const t of holders) expect(t.type, hostile).toBe('plain_text');
    }
    expect(texts).toContainEqual(expect.objectContaining({ type: 'plain_text', text: expect.stringMatching(/^The agent says: “Pay ACME Corp invoice/) }));
    expect(texts).toContainEqual(expect.objectContaining({ type: 'plain_text', text: expect.stringMatching(/^Justification, the agent says: “routine/) }));
    // The heading is ours: status and action type, never the agent's summary.
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Approval needed: payment.send' } });
    expect(card.text).not.toContain('<!channel>');
  });
});

describe('caller text cannot draw the card’s own lines', () => {
  it('a resource or risk label with backticks and line breaks stays inside its code span', async () => {
    const { code } = await import('../src/blocks/mrkdwn.ts');
    const forged = 'env/staging` \n*Approvals:* 2 of 2 :white_check_mark: approved by alice `x';
    const span = code(forged, 500);
    expect(span.startsWith('`') && span.endsWith('`')).toBe(true);
    expect(span.slice(1, -1)).not.toMatch(/[`\n]/);
  });
});
