import { describe, expect, it } from 'vitest';
import { DUAL, org, pendingAction, refusal, vote } from './support/org.ts';
import type { TestEngine } from './support/engine.ts';

// SPEC "Approver checks" 2–5 through the engine's front door: every refusal code, and that a
// refused vote leaves nothing behind (no vote row, no artifact, no state change).

async function refusedWithoutTrace(engine: TestEngine, actionId: string, attempt: Promise<unknown>) {
  const before = { votes: (await engine.store.votesFor(actionId)).length, artifacts: engine.store.artifacts.length };
  const err = await refusal(attempt);
  expect((await engine.store.votesFor(actionId)).length).toBe(before.votes);
  expect(engine.store.artifacts.length).toBe(before.artifacts);
  expect((await engine.store.findAction(actionId))!.status).toBe('pending');
  return err;
}

describe('vote refusals', () => {
  it('self_approval: the requesting person', async () => {
    const e = org();
    const id = await pendingAction(e, DUAL, 'erin');
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'erin'));
    expect(err.code).toBe('self_approval');
    expect(err.message).toMatch(/you requested this action/i);
  });

  it('self_approval: the person the agent acts for', async () => {
    const e = org();
    const id = await pendingAction(e, DUAL, 'deploy-bot', { onBehalfOf: 'frank' });
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'frank'));
    expect(err.code).toBe('self_approval');
    expect(err.message).toMatch(/on your behalf/);
  });

  it('self_approval: the agent\'s owner, unless the rule lets owners approve', async () => {
    const e = org();
    const id = await pendingAction(e);
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'olga'));
    expect(err.code).toBe('self_approval');
    expect(err.message).toMatch(/you own the agent/i);

    const allowed = await pendingAction(e, { ...DUAL, ownerMayApprove: true });
    const result = await vote(e, allowed, 'olga');
    expect(result.vote.roles).toEqual(['sre-lead']);
    expect(result.decided).toBe(false);
  });

  it('self_approval: the agent\'s owner as the directory says at vote time, and the one recorded at submission', async () => {
    // SPEC: the checks run against the directory as it is at vote time. deploy-bot is handed
    // from olga to ivan (an sre-lead) while its request waits: neither may approve it.
    const e = org();
    e.directory.addPerson('ivan', ['sre-lead']);
    const id = await pendingAction(e);
    e.directory.addAgent('deploy-bot', 'ivan');
    for (const owner of ['ivan', 'olga']) {
      const err = await refusedWithoutTrace(e, id, vote(e, id, owner));
      expect(err.code).toBe('self_approval');
      expect(err.message).toMatch(/you own the agent/i);
    }
    // Where the rule lets owners approve, the new owner may.
    const allowed = await pendingAction(e, { ...DUAL, ownerMayApprove: true });
    expect((await vote(e, allowed, 'ivan')).decided).toBe(false);
  });

  it('an approval stops counting once its approver has become the agent\'s owner (as a revoked role stops counting)', async () => {
    // alice (sre-lead) approves; deploy-bot is then handed to her. Her approval no longer fills
    // the sre-lead slot: bob's security approval does not decide the action, gina's sre-lead does.
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'alice');
    e.directory.addAgent('deploy-bot', 'alice');
    expect((await vote(e, id, 'bob')).decided).toBe(false);
    expect((await e.store.findAction(id))!.status).toBe('pending');
    expect((await vote(e, id, 'gina')).decided).toBe(true);
    expect((await e.store.findAction(id))!.status).toBe('approved');
  });

  it('self_approval comes before every other reason (the most fundamental first)', async () => {
    const e = org();
    e.directory.setRoles('erin', []);
    const id = await pendingAction(e, DUAL, 'erin');
    expect((await refusal(vote(e, id, 'erin', 'deny', null))).code).toBe('self_approval');
  });

  it('unknown_identity: a person not in the directory', async () => {
    const e = org();
    const id = await pendingAction(e);
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'mallory'));
    expect(err.code).toBe('unknown_identity');
  });

  it('not_eligible: a person holding none of the roles', async () => {
    const e = org();
    const id = await pendingAction(e);
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'dave'));
    expect(err.code).toBe('not_eligible');
    expect(err.message).toContain('sre-lead + security');
  });

  it('not_eligible: a denier holding none of the roles cannot end the request either', async () => {
    const e = org();
    const id = await pendingAction(e);
    expect((await refusedWithoutTrace(e, id, vote(e, id, 'dave', 'deny', 'no'))).code).toBe('not_eligible');
  });

  it('not_eligible: the only slot the person could fill is taken (dual control needs two people)', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'alice');
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'gina'));
    expect(err.code).toBe('not_eligible');
    expect(err.message).toContain('still needed: security');
  });

  it('not_eligible: an earlier approver whose role was revoked no longer holds the slot', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'alice');
    e.directory.setRoles('alice', []);
    // gina may now take the sre-lead slot alice held, and bob alone does not complete it.
    expect((await vote(e, id, 'bob')).decided).toBe(false);
    const last = await vote(e, id, 'gina');
    expect(last.decided).toBe(true);
    expect(last.action.status).toBe('approved');
  });

  it('already_voted: one vote per person, whatever the decision', async () => {
    const e = org();
    const id = await pendingAction(e, { ...DUAL, denyEndsRequest: false });
    await vote(e, id, 'carol');
    expect((await refusedWithoutTrace(e, id, vote(e, id, 'carol'))).code).toBe('already_voted');
    await vote(e, id, 'bob', 'deny', 'not today');
    expect((await refusedWithoutTrace(e, id, vote(e, id, 'bob', 'approve'))).code).toBe('already_voted');
  });

  it('already_decided: a vote after the final decision changes nothing and says so', async () => {
    const e = org();
    const id = await pendingAction(e);
    await vote(e, id, 'alice');
    const decided = await vote(e, id, 'bob');
    expect(decided.decided).toBe(true);
    const artifacts = e.store.artifacts.length;
    const err = await refusal(vote(e, id, 'carol'));
    expect(err.code).toBe('already_decided');
    expect(err.extra).toEqual({ actionStatus: 'approved' });
    expect(e.store.artifacts.length).toBe(artifacts);
    expect((await e.store.votesFor(id)).map((v) => v.personId)).toEqual(['alice', 'bob']);
  });

  it('expired: a vote after the expiry closes the action as expired and refuses the vote', async () => {
    const e = org();
    const id = await pendingAction(e);
    e.clock.advance(600);
    const err = await refusal(vote(e, id, 'carol'));
    expect(err.code).toBe('expired');
    const action = (await e.store.findAction(id))!;
    expect(action.status).toBe('expired');
    expect(await e.store.votesFor(id)).toEqual([]);
    expect(JSON.parse(e.store.artifacts.at(-1)!.canonical).event).toMatchObject({ kind: 'action.decided', actionId: id, status: 'expired', decidedBy: 'system' });
  });

  it('reason_required: a deny needs a reason', async () => {
    const e = org();
    const id = await pendingAction(e);
    const err = await refusedWithoutTrace(e, id, vote(e, id, 'bob', 'deny', null));
    expect(err.code).toBe('reason_required');
    expect(err.issues).toEqual([{ field: 'reason', message: 'required when denying' }]);
  });

  it('reason_required: an approval needs one when the rule says so', async () => {
    const e = org();
    const id = await pendingAction(e, { ...DUAL, approvalReasonRequired: true });
    expect((await refusedWithoutTrace(e, id, vote(e, id, 'bob'))).code).toBe('reason_required');
    expect((await vote(e, id, 'bob', 'approve', 'checked the runbook')).vote.reason).toBe('checked the runbook');
  });

  it('not_found: an unknown action', async () => {
    const e = org();
    expect((await refusal(vote(e, 'act_missing', 'bob'))).code).toBe('not_found');
  });

  it('unauthenticated: an API key revoked before the vote', async () => {
    const e = org();
    const id = await pendingAction(e);
    const bobs = await e.callerFor('bob');
    await e.keys.revoke(bobs.keyId);
    const err = await refusedWithoutTrace(e, id, e.gate.vote({ actionId: id, personId: 'bob', decision: 'approve', reason: null, channel: 'api', keyId: bobs.keyId }));
    expect(err.code).toBe('unauthenticated');
  });
});

describe('votes that count', () => {
  it('a deny by an eligible person ends the request as refused, sealed with the reason', async () => {
    const e = org();
    const id = await pendingAction(e);
    const result = await vote(e, id, 'bob', 'deny', 'wrong environment');
    expect(result.decided).toBe(true);
    expect(result.action).toMatchObject({ status: 'refused', decidedBy: 'bob', decisionReason: 'denied by bob: wrong environment' });
    expect(result.artifacts.map((a) => a.kind)).toEqual(['vote.recorded', 'action.decided']);
  });

  it('a deny is only a vote when the rule says a deny does not end the request', async () => {
    const e = org();
    const id = await pendingAction(e, { ...DUAL, denyEndsRequest: false });
    expect((await vote(e, id, 'bob', 'deny', 'hmm')).decided).toBe(false);
    await vote(e, id, 'alice');
    const last = await vote(e, id, 'carol');
    expect(last.action.status).toBe('approved');
    expect(JSON.parse(last.artifacts[1]!.canonical).event.approvers).toEqual(
      expect.arrayContaining([{ personId: 'alice', role: 'sre-lead' }, { personId: 'carol', role: 'security' }]),
    );
  });

  it('the vote records only the roles the requirement asks for, as held at vote time', async () => {
    const e = org();
    e.directory.setRoles('bob', ['security', 'dba']);
    const id = await pendingAction(e);
    const result = await vote(e, id, 'bob', 'approve', null, 'slack');
    expect(result.vote).toMatchObject({ personId: 'bob', roles: ['security'], channel: 'slack' });
    expect(JSON.parse(result.artifacts[0]!.canonical).event).toMatchObject({ kind: 'vote.recorded', rolesAtVote: ['security'], progress: { filled: 1, needed: 2 } });
  });
});
