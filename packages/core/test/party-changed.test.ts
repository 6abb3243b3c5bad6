import { describe, expect, it } from 'vitest';
import { buildCardModel } from '../src/cards/card-model.ts';
import { eventsFor } from './support/artifacts.ts';
import { org, pendingAction, vote } from './support/org.ts';

// A party no longer in the directory as they were at submission: the queue's party_changed
// refuses the request (nothing tells their renamed entry from a newcomer), once, sealed.

describe('a request whose party changed', () => {
  it('is refused by countersign with the reason, sealed, once; cards say countersign refused it', async () => {
    const e = org();
    const id = await pendingAction(e);
    const reason = 'a party of this request changed: the request is refused (submit it again)';
    expect(await Promise.all([e.gate.refuseChangedParty(id, reason), e.gate.refuseChangedParty(id, reason)])).toEqual([true, false]);
    const action = (await e.store.findAction(id))!;
    expect(action).toMatchObject({ status: 'refused', decidedBy: 'system', decisionReason: reason });
    expect(eventsFor(e.store.artifacts, id).map((x) => [x.kind, x.status])).toEqual([['action.escalated', undefined], ['action.decided', 'refused']]);
    expect(e.store.outbox).toContainEqual({ type: 'action.decided', actionId: id, status: 'refused', automatic: false, override: false });
    const card = buildCardModel(action, [], e.directory);
    expect(card.outcome).toMatchObject({ headline: 'Refused by countersign', reason });
  });

  it('past its expiry it expired, whatever the queue found late', async () => {
    const e = org();
    const id = await pendingAction(e);
    e.clock.advance(600);
    expect(await e.gate.refuseChangedParty(id, 'a party changed')).toBe(true);
    expect((await e.store.findAction(id))!).toMatchObject({ status: 'expired', decidedBy: 'system', decisionReason: 'approval requirement expired before it was met' });
  });

  it('an action decided meanwhile stays as it was', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'carol');
    await vote(e, id, 'alice');
    expect(await e.gate.refuseChangedParty(id, 'a party changed')).toBe(false);
    expect((await e.store.findAction(id))!.status).toBe('approved');
    expect(eventsFor(e.store.artifacts, id).filter((x) => x.kind === 'action.decided')).toHaveLength(1);
  });
});
