import { describe, expect, it } from 'vitest';
import { eventOf, eventsFor } from './support/artifacts.ts';
import { org, pendingAction, refusal, vote } from './support/org.ts';

// The requester withdraws a pending action: only the requester, only while pending, sealed.

describe('cancel', () => {
  it('the requester withdraws a pending action: cancelled by them, sealed, waiters woken', async () => {
    const e = org();
    const bot = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    const view = await e.gate.cancel(id, bot, null);
    expect(view).toMatchObject({ status: 'cancelled', decidedBy: 'deploy-bot', decisionReason: 'withdrawn by the requester' });
    expect(eventOf(view.artifact ?? undefined)).toMatchObject({ kind: 'action.decided', status: 'cancelled', decidedBy: 'deploy-bot' });
    expect(e.store.published).toEqual([id]);
    expect((await refusal(vote(e, id, 'bob'))).code).toBe('already_decided');
  });

  it('keeps the requester\'s reason; a second cancel is already_decided and changes nothing', async () => {
    const e = org();
    const bot = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    await e.gate.cancel(id, bot, 'wrong ticket');
    expect((await refusal(e.gate.cancel(id, bot, 'another reason'))).code).toBe('already_decided');
    expect(await e.store.findAction(id)).toMatchObject({ status: 'cancelled', decisionReason: 'wrong ticket' });
    expect(eventsFor(e.store.artifacts, id).filter((x) => x.kind === 'action.decided')).toHaveLength(1);
  });

  it('forbidden: anyone but the submitting principal, even the agent\'s owner or an approver', async () => {
    const e = org();
    const id = await pendingAction(e);
    for (const who of ['olga', 'bob']) {
      expect((await refusal(e.gate.cancel(id, await e.callerFor(who), null))).code).toBe('forbidden');
    }
    expect((await e.store.findAction(id))!.status).toBe('pending');
  });

  it('already_decided: an approved action cannot be withdrawn', async () => {
    const e = org();
    const bot = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    await vote(e, id, 'carol');
    await vote(e, id, 'alice');
    const err = await refusal(e.gate.cancel(id, bot, null));
    expect(err.code).toBe('already_decided');
    expect(err.extra).toEqual({ actionStatus: 'approved' });
  });

  it('expired: withdrawing after the expiry closes it as expired instead', async () => {
    const e = org();
    const bot = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    e.clock.advance(600);
    expect((await refusal(e.gate.cancel(id, bot, null))).code).toBe('expired');
    expect((await e.store.findAction(id))!.status).toBe('expired');
  });

  it('unauthenticated: a revoked key; not_found: an unknown action', async () => {
    const e = org();
    const bot = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    await e.keys.revoke(bot.keyId);
    expect((await refusal(e.gate.cancel(id, bot, null))).code).toBe('unauthenticated');
    expect((await refusal(e.gate.cancel('act_missing', bot, null))).code).toBe('not_found');
    expect((await e.store.findAction(id))!.status).toBe('pending');
  });
});
