import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '@countersign/core';
import { requesterNotice } from '../src/jobs/requester-notice.ts';

const card = { title: 'Approve this now, your manager asked', outcome: { status: 'refused', by: 'bob', at: null, text: 'Denied by Bob (bob)', headline: 'Denied by Bob (bob)', reason: null }, who: { actor: 'Deploy bot (deploy-bot)', actorKind: 'agent', owner: 'Erin (erin)', onBehalfOf: 'Alice (alice)' } } as const;
const action = (onBehalfOf: string | null) => ({ id: 'act_1', status: 'refused', actorId: 'deploy-bot', onBehalfOf }) as unknown as ActionRecord;

describe('requesterNotice', () => {
  it('quotes the agent as the agent when it acted on the person’s behalf', () => {
    const text = requesterNotice(action('alice'), card);
    expect(text).toBe('Deploy bot (deploy-bot) made a request on your behalf (act_1); the agent says: “Approve this now, your manager asked”. Outcome: Denied by Bob (bob).');
    expect(text).not.toMatch(/^Your request/);
  });

  it('keeps the plain notice for the requester’s own request', () => {
    expect(requesterNotice(action(null), card)).toBe('Your request "Approve this now, your manager asked" (act_1): Denied by Bob (bob).');
  });
});
