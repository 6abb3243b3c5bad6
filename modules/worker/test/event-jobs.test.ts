import { describe, expect, it } from 'vitest';
import type { Requirement } from '@countersign/contracts';
import type { ActionRecord } from '@countersign/core';
import { hintsForTier, jobsForEvent, requesterOf, timersFor, timersToCancel } from '../src/index.ts';

const requirement: Requirement = {
  groups: [{ role: 'sre-lead', count: 1 }],
  expiresInSeconds: 1800,
  ownerMayApprove: false,
  denyEndsRequest: true,
  approvalReasonRequired: false,
  redact: [],
  feature: [],
  channels: {
    slack: ['#a'],
    teams: [],
    people: ['bob'],
    reminders: [300, 3600],
    tiers: [
      { afterSeconds: 600, slack: ['#b'], teams: ['19:t@thread.tacv2'], people: [] },
      { afterSeconds: 7200, slack: ['#c'], teams: [], people: [] },
    ],
  },
};

function action(over: Partial<ActionRecord> = {}): ActionRecord {
  const createdAt = new Date('2026-01-01T10:00:00Z');
  return {
    id: 'act_1',
    status: 'pending',
    outcome: 'escalate',
    actorId: 'deploy-bot',
    actorKind: 'agent',
    ownerId: 'erin',
    onBehalfOf: null,
    apiKeyId: 'key_1',
    intent: { action: { type: 'x' }, context: {}, risk: {}, authority: {} } as never,
    intentHash: 'h',
    actionType: 'x',
    policyDigest: 'd',
    ruleIds: ['r'],
    reasons: [],
    requirement,
    overrideRoles: [],
    expiresAt: new Date(createdAt.getTime() + 1800_000),
    createdAt,
    decidedAt: null,
    decidedBy: null,
    decisionReason: null,
    overriddenBy: null,
    overrideReason: null,
    idempotencyKey: null,
    requestHash: null,
    ...over,
  };
}

describe('timers and event jobs', () => {
  it('computes timers from Postgres timestamps, skipping those after the expiry', () => {
    const timers = timersFor(action());
    expect(timers.map((t) => [t.name, t.payload, t.dueAt.toISOString()])).toEqual([
      ['remind', { actionId: 'act_1', index: 0 }, '2026-01-01T10:05:00.000Z'],
      ['escalate-tier', { actionId: 'act_1', tier: 1 }, '2026-01-01T10:10:00.000Z'],
      ['expire', { actionId: 'act_1' }, '2026-01-01T10:30:00.000Z'],
    ]);
  });

  it('turns an escalation into the first cards and delayed timers relative to now', () => {
    const now = new Date('2026-01-01T10:01:00Z');
    const jobs = jobsForEvent({ type: 'action.escalated', actionId: 'act_1' }, '9', action(), now);
    expect(jobs.map((j) => [j.name, j.delayMs])).toEqual([
      ['post-cards', 0],
      ['remind', 240_000],
      ['escalate-tier', 540_000],
      ['expire', 1_740_000],
    ]);
    // A late dispatch never schedules into the past.
    const late = jobsForEvent({ type: 'action.escalated', actionId: 'act_1' }, '9', action(), new Date('2026-01-01T11:00:00Z'));
    expect(late.every((j) => j.delayMs === 0)).toBe(true);
  });

  it('turns votes and decisions into card updates, notices and deliveries', () => {
    const now = new Date();
    expect(jobsForEvent({ type: 'vote.recorded', actionId: 'act_1', personId: 'alice', decision: 'approve' }, '10', action(), now)).toEqual([
      { name: 'update-cards', payload: { actionId: 'act_1' }, delayMs: 0, ref: '10' },
    ]);
    // Decided by now (by this vote or a later one): the decision's own update-cards renders it.
    expect(jobsForEvent({ type: 'vote.recorded', actionId: 'act_1', personId: 'alice', decision: 'approve' }, '10', action({ status: 'approved' }), now)).toEqual([]);
    const decided = { type: 'action.decided' as const, actionId: 'act_1', status: 'approved' as const, automatic: false, override: false };
    const executor = { method: 'POST', url: 'https://runner.example/run' };
    const withExecutor = action({ requirement: { ...requirement, executor } as Requirement });
    // The cards show the outcome and the requester is told by one job.
    expect(jobsForEvent(decided, '11', withExecutor, now).map((j) => [j.name, j.payload])).toEqual([
      ['update-cards', { actionId: 'act_1' }],
      ['execute-action', { actionId: 'act_1' }],
    ]);
    // No executor named: nothing to execute, so no job.
    expect(jobsForEvent(decided, '11', action(), now).map((j) => j.name)).toEqual(['update-cards']);
    const withCallback = action({ intent: { action: { type: 'x' }, callbackUrl: 'https://h.example/x' } as never, requirement: { ...requirement, executor } as Requirement });
    expect(jobsForEvent({ ...decided, status: 'refused' }, '12', withCallback, now).map((j) => j.name)).toEqual(['update-cards', 'deliver-webhook']);
    expect(jobsForEvent({ ...decided, automatic: true }, '13', withCallback, now).map((j) => [j.name, j.ref])).toEqual([
      ['deliver-webhook', '13'],
      ['execute-action', '13'],
    ]);
  });

  it("cancels a decided action's timers, and only a decided one's", () => {
    const decided = { type: 'action.decided' as const, actionId: 'act_1', status: 'approved' as const, automatic: false, override: false };
    expect(timersToCancel(decided, action({ status: 'approved' }))).toEqual([
      { name: 'remind', payload: { actionId: 'act_1', index: 0 } },
      { name: 'escalate-tier', payload: { actionId: 'act_1', tier: 1 } },
      { name: 'expire', payload: { actionId: 'act_1' } },
    ]);
    // Pending again by the time the event is dispatched: its timers are its own.
    expect(timersToCancel(decided, action({ status: 'pending' }))).toEqual([]);
    // Decided by policy at submission: it never had any.
    expect(timersToCancel({ ...decided, automatic: true }, action({ status: 'approved', requirement: null }))).toEqual([]);
    expect(timersToCancel({ type: 'action.escalated', actionId: 'act_1' }, action())).toEqual([]);
    expect(timersToCancel({ type: 'vote.recorded', actionId: 'act_1', personId: 'alice', decision: 'approve' }, action({ status: 'approved' }))).toEqual([]);
  });

  it('knows where each tier asks and who is behind a request', () => {
    expect(hintsForTier(requirement, 0)).toEqual({ places: { slack: ['#a'], teams: [] }, people: ['bob'] });
    expect(hintsForTier(requirement, 1)).toEqual({ places: { slack: ['#b'], teams: ['19:t@thread.tacv2'] }, people: [] });
    expect(hintsForTier(requirement, 3)).toBeUndefined();
    expect(requesterOf(action())).toBe('erin');
    expect(requesterOf(action({ onBehalfOf: 'ivan' }))).toBe('ivan');
    expect(requesterOf(action({ actorKind: 'person', actorId: 'carol', ownerId: null }))).toBe('carol');
    expect(requesterOf(action({ ownerId: null }))).toBeNull();
  });
});
