import { describe, expect, it } from 'vitest';
import { eventsFor } from './support/artifacts.ts';
import { org, pendingAction, refusal, vote } from './support/org.ts';

// Fail closed: a requirement not met in time ends as expired, once, sealed, whoever notices.

describe('expiry', () => {
  it('nothing expires before its time; at the expiry it closes as expired by the system, sealed', async () => {
    const e = org();
    const id = await pendingAction(e);
    e.clock.advance(599);
    expect(await e.gate.expireIfDue(id)).toBe(false);
    expect((await e.store.findAction(id))!.status).toBe('pending');

    e.clock.advance(1);
    expect(await e.gate.expireIfDue(id)).toBe(true);
    const action = (await e.store.findAction(id))!;
    expect(action).toMatchObject({ status: 'expired', decidedBy: 'system', decisionReason: 'approval requirement expired before it was met' });
    expect(action.decidedAt).toEqual(e.clock.now());
    expect(eventsFor(e.store.artifacts, id).map((x) => [x.kind, x.status])).toEqual([['action.escalated', undefined], ['action.decided', 'expired']]);
    expect(e.store.published).toEqual([id]);
    expect(e.store.outbox).toContainEqual({ type: 'action.decided', actionId: id, status: 'expired', automatic: false, override: false });
  });

  it('expiring twice decides once', async () => {
    const e = org();
    const id = await pendingAction(e);
    e.clock.advance(600);
    expect(await Promise.all([e.gate.expireIfDue(id), e.gate.expireIfDue(id)])).toEqual([true, false]);
    expect(await e.gate.expireIfDue(id)).toBe(false);
    expect(eventsFor(e.store.artifacts, id).filter((x) => x.kind === 'action.decided')).toHaveLength(1);
  });

  it('an approved action never expires', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'carol');
    await vote(e, id, 'alice');
    e.clock.advance(3600);
    expect(await e.gate.expireIfDue(id)).toBe(false);
    expect((await e.store.findAction(id))!.status).toBe('approved');
  });

  it('the sweep expires every overdue pending action and only those', async () => {
    const e = org();
    const short = await pendingAction(e, { groups: [{ role: 'security', count: 1 }], expiresInSeconds: 60 });
    const long = await pendingAction(e, { groups: [{ role: 'security', count: 1 }], expiresInSeconds: 3600 });
    const decided = await pendingAction(e, { groups: [{ role: 'security', count: 1 }], expiresInSeconds: 60 });
    await vote(e, decided, 'bob');
    e.clock.advance(61);
    expect(await e.gate.expireOverdue()).toBe(1);
    expect((await e.store.findAction(short))!.status).toBe('expired');
    expect((await e.store.findAction(long))!.status).toBe('pending');
    expect((await e.store.findAction(decided))!.status).toBe('approved');
    expect(await e.gate.expireOverdue()).toBe(0);
  });

  it('reading an overdue action closes it: nobody sees it as still open', async () => {
    const e = org();
    const caller = await e.callerFor('deploy-bot');
    const id = await pendingAction(e);
    e.clock.advance(600);
    const view = await e.gate.read(id, caller);
    expect(view.status).toBe('expired');
    expect(view.artifact && eventsFor([view.artifact], id)[0]).toMatchObject({ kind: 'action.decided', status: 'expired' });
  });

  it('a vote that arrives after the expiry is refused and the action expires with no vote recorded', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'alice');
    e.clock.advance(600);
    expect((await refusal(vote(e, id, 'bob'))).code).toBe('expired');
    expect((await e.store.votesFor(id)).map((v) => v.personId)).toEqual(['alice']);
    expect((await e.store.findAction(id))!.status).toBe('expired');
    // Once expired, every later vote hears the same: expired, not merely "already decided".
    const later = await refusal(vote(e, id, 'carol'));
    expect(later.code).toBe('expired');
    expect(later.extra).toEqual({ actionStatus: 'expired' });
  });
});
