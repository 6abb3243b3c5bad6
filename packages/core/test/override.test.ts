import { describe, expect, it } from 'vitest';
import { RequirementSchema } from '@countersign/contracts';
import { refuse, T0 } from './support/engine.ts';
import { eventOf, eventsFor } from './support/artifacts.ts';
import { DUAL, org, pendingAction, refusal, vote } from './support/org.ts';

// SPEC "Supervised override": only a role the refusing rule names, with a reason, never the
// requester's side, at most once, and the artifact flags it for review.

async function refusedByPolicy(overrideRoles = ['incident-commander'], as = 'deploy-bot') {
  const e = org();
  const view = await refuse(e, await e.callerFor(as), overrideRoles);
  expect(view).toMatchObject({ status: 'refused', verdict: 'refuse' });
  return { e, id: view.id };
}

const override = (e: ReturnType<typeof org>, actionId: string, personId: string, reason = 'customer outage, approved on the bridge') =>
  e.gate.override({ actionId, personId, reason });

describe('supervised override', () => {
  it('a named role with a reason turns the refusal into an approval, flagged for review', async () => {
    const { e, id } = await refusedByPolicy();
    const { action, artifact } = await override(e, id, 'ivan', '  customer outage  ');
    expect(action).toMatchObject({ status: 'approved', overriddenBy: 'ivan', overrideReason: 'customer outage' });
    expect(await e.store.findAction(id)).toMatchObject({ status: 'approved', overriddenBy: 'ivan', overrideReason: 'customer outage', outcome: 'refuse' });
    expect(eventOf(artifact)).toMatchObject({
      kind: 'action.overridden', actionId: id, personId: 'ivan', rolesAtOverride: ['incident-commander'],
      reason: 'customer outage', previousStatus: 'refused', status: 'approved', reviewRequired: true,
    });
    expect(e.store.outbox).toContainEqual({ type: 'action.decided', actionId: id, status: 'approved', automatic: false, override: true });
    expect(e.store.published).toEqual([id]);
  });

  it('at most once', async () => {
    const { e, id } = await refusedByPolicy();
    e.directory.addPerson('judy', ['incident-commander']);
    await override(e, id, 'ivan');
    const err = await refusal(override(e, id, 'judy'));
    expect(err.code).toBe('not_overridable');
    expect(eventsFor(e.store.artifacts, id).filter((x) => x.kind === 'action.overridden')).toHaveLength(1);
  });

  it('reason_required: blank reasons are refused before anything is read', async () => {
    const { e, id } = await refusedByPolicy();
    expect((await refusal(override(e, id, 'ivan', '   '))).code).toBe('reason_required');
    expect((await e.store.findAction(id))!.status).toBe('refused');
  });

  it('self_approval: not the requester, the agent\'s owner or the person acted for', async () => {
    const { e, id } = await refusedByPolicy();
    e.directory.setRoles('olga', ['incident-commander']);
    expect((await refusal(override(e, id, 'olga'))).code).toBe('self_approval');

    const mine = await refusedByPolicy(['incident-commander'], 'erin');
    mine.e.directory.setRoles('erin', ['incident-commander']);
    expect((await refusal(override(mine.e, mine.id, 'erin'))).code).toBe('self_approval');

    const delegated = org();
    delegated.directory.setRoles('frank', ['incident-commander']);
    delegated.policy.verdict = { outcome: 'refuse', ruleIds: ['freeze'], reasons: ['change freeze'], policyDigest: delegated.policy.digest, overrideRoles: ['incident-commander'] };
    const caller = await delegated.callerFor('deploy-bot', { canDelegate: true });
    const { view } = await delegated.gate.submit({ caller, body: { action: { type: 'environment.delete' }, onBehalfOf: 'frank' } });
    expect((await refusal(override(delegated, view.id, 'frank'))).code).toBe('self_approval');
  });

  it('self_approval: the agent\'s owner at override time too, when the agent changed hands meanwhile', async () => {
    const { e, id } = await refusedByPolicy();
    e.directory.addAgent('deploy-bot', 'ivan'); // ivan, an incident-commander, now owns it
    const err = await refusal(override(e, id, 'ivan'));
    expect(err.code).toBe('self_approval');
    expect((await e.store.findAction(id))!.status).toBe('refused');
  });

  it('not_eligible: a person without an override role', async () => {
    const { e, id } = await refusedByPolicy();
    const err = await refusal(override(e, id, 'carol'));
    expect(err.code).toBe('not_eligible');
    expect(err.message).toContain('incident-commander');
  });

  it('unknown_identity: a person not in the directory', async () => {
    const { e, id } = await refusedByPolicy();
    expect((await refusal(override(e, id, 'mallory'))).code).toBe('unknown_identity');
  });

  it('not_overridable: a refusal whose rules name no override role', async () => {
    const { e, id } = await refusedByPolicy([]);
    expect((await refusal(override(e, id, 'ivan'))).code).toBe('not_overridable');
  });

  it('not_overridable: a pending action, and a refusal by a reviewer\'s deny', async () => {
    const e = org();
    const pending = await pendingAction(e);
    expect((await refusal(override(e, pending, 'ivan'))).code).toBe('not_overridable');
    await vote(e, pending, 'bob', 'deny', 'no');
    expect((await e.store.findAction(pending))!.status).toBe('refused');
    expect((await refusal(override(e, pending, 'ivan'))).code).toBe('not_overridable');
  });

  it('unauthenticated: an API key revoked before the override; not_found: an unknown action', async () => {
    const { e, id } = await refusedByPolicy();
    const ivans = await e.callerFor('ivan');
    await e.keys.revoke(ivans.keyId);
    const err = await refusal(e.gate.override({ actionId: id, personId: 'ivan', reason: 'r', keyId: ivans.keyId }));
    expect(err.code).toBe('unauthenticated');
    expect((await refusal(override(e, 'act_missing', 'ivan'))).code).toBe('not_found');
    expect((await e.store.findAction(id))!.status).toBe('refused');
  });

  it('with escalate rules matched too, an override escalates to their requirement instead of approving', async () => {
    const e = org();
    e.policy.verdict = {
      outcome: 'refuse',
      ruleIds: ['freeze'],
      reasons: ['change freeze'],
      policyDigest: e.policy.digest,
      overrideRoles: ['incident-commander'],
      requirementAfterOverride: RequirementSchema.parse(DUAL),
    };
    const { view } = await e.gate.submit({ caller: await e.callerFor('deploy-bot'), body: { action: { type: 'environment.delete', resource: 'env/prod' } } });
    expect(view).toMatchObject({ status: 'refused', overridable: { roles: ['incident-commander'] } });
    expect(view).not.toHaveProperty('requirement');

    const { action, artifact } = await override(e, view.id, 'ivan');
    expect(action).toMatchObject({ status: 'pending', overriddenBy: 'ivan', decidedAt: null, decidedBy: null, expiresAt: new Date(T0.getTime() + 600_000) });
    expect(await e.store.findAction(view.id)).toMatchObject({ status: 'pending', overriddenBy: 'ivan', outcome: 'refuse' });
    expect(eventOf(artifact)).toMatchObject({ kind: 'action.overridden', status: 'pending', reviewRequired: true, expiresAt: '2030-01-01T09:10:00.000Z' });
    expect((eventOf(artifact) as { requirement: { groups: unknown } }).requirement.groups).toEqual(DUAL.groups);
    // Cards and timers follow, as for any escalation; nothing final to announce yet.
    expect(e.store.outbox).toContainEqual({ type: 'action.escalated', actionId: view.id });
    expect(e.store.outbox.filter((x) => x.type === 'action.decided')).toEqual([]);
    expect(e.store.published).toEqual([]);

    // Dual control still holds: one person with both roles fills one slot.
    await vote(e, view.id, 'carol');
    expect((await e.store.findAction(view.id))!.status).toBe('pending');
    await vote(e, view.id, 'bob');
    expect(await e.store.findAction(view.id)).toMatchObject({ status: 'approved', decidedBy: 'bob', overriddenBy: 'ivan' });
  });

  it('an overridden refusal takes no votes', async () => {
    const { e, id } = await refusedByPolicy();
    await override(e, id, 'ivan');
    expect((await refusal(vote(e, id, 'bob'))).code).toBe('already_decided');
  });
});
