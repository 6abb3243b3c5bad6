import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DomainError, type VoteDecision } from '@countersign/contracts';
import { escalate, testEngine, type RequirementInput, type TestEngine } from './support/engine.ts';

// The dry run channels call before a modal (Gate.checkVote) must answer what the vote would:
// the same checks on the same reads (roles as the directory says now, votes as recorded), and
// never a write.

const DUAL: RequirementInput = { groups: [{ role: 'sre-lead', count: 1 }, { role: 'security', count: 1 }], expiresInSeconds: 600 };

async function setup(requirement: RequirementInput = DUAL): Promise<{ engine: TestEngine; actionId: string }> {
  const engine = testEngine();
  const d = engine.directory;
  d.addPerson('olga', ['sre-lead']);
  d.addAgent('deploy-bot', 'olga');
  d.addPerson('alice', ['sre-lead']);
  d.addPerson('gina', ['sre-lead']);
  d.addPerson('bob', ['security']);
  d.addPerson('carol', ['sre-lead', 'security']);
  d.addPerson('dave', ['viewer']);
  const view = await escalate(engine, await engine.callerFor('deploy-bot'), requirement);
  expect(view.status).toBe('pending');
  return { engine, actionId: view.id };
}

/** Everything the store holds that a vote could change. */
function written(engine: TestEngine) {
  return { artifacts: engine.store.artifacts.length, outbox: engine.store.outbox.length, published: engine.store.published.length };
}

async function voteOutcome(engine: TestEngine, actionId: string, personId: string, decision: VoteDecision, reason: string | null) {
  try {
    await engine.gate.vote({ actionId, personId, decision, reason, channel: 'api' });
    return 'recorded';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

async function dryRun(engine: TestEngine, actionId: string, personId: string, decision: VoteDecision, reason: string | null | undefined) {
  const check = await engine.gate.checkVote({ actionId, personId, decision, reason });
  return check.allowed ? 'recorded' : check.refusal.code;
}

describe('checkVote', () => {
  it('allows what the vote would record, and writes nothing', async () => {
    const { engine, actionId } = await setup();
    const before = written(engine);
    const check = await engine.gate.checkVote({ actionId, personId: 'alice', decision: 'approve', reason: undefined });
    expect(check).toMatchObject({ allowed: true, action: { id: actionId, status: 'pending' } });
    expect(written(engine)).toEqual(before);
    expect(await engine.store.votesFor(actionId)).toEqual([]);
  });

  it('refuses with the messages of the vote itself', async () => {
    const { engine, actionId } = await setup();
    await engine.gate.vote({ actionId, personId: 'alice', decision: 'approve', reason: null, channel: 'api' });
    for (const [personId, decision, reason] of [
      ['olga', 'approve', undefined], // owns the requesting agent
      ['alice', 'deny', undefined], // already voted
      ['dave', 'approve', undefined], // no role the requirement needs
      ['gina', 'approve', undefined], // the sre-lead slot is taken
      ['bob', 'deny', null], // a deny without a reason
      ['nobody', 'approve', undefined],
    ] as const) {
      const check = await engine.gate.checkVote({ actionId, personId, decision, reason });
      const vote = await engine.gate.vote({ actionId, personId, decision, reason: reason ?? null, channel: 'api' }).catch((e: unknown) => e);
      expect(vote).toBeInstanceOf(DomainError);
      expect(check).toEqual({ allowed: false, refusal: expect.any(DomainError) });
      if (!check.allowed) expect([check.refusal.code, check.refusal.message]).toEqual([(vote as DomainError).code, (vote as DomainError).message]);
    }
  });

  it('leaves the reason to the real vote when the channel will ask for it', async () => {
    const { engine, actionId } = await setup({ ...DUAL, approvalReasonRequired: true });
    expect(await dryRun(engine, actionId, 'bob', 'deny', undefined)).toBe('recorded');
    expect(await dryRun(engine, actionId, 'bob', 'approve', undefined)).toBe('recorded');
    expect(await dryRun(engine, actionId, 'bob', 'approve', null)).toBe('reason_required');
    expect(await voteOutcome(engine, actionId, 'bob', 'approve', null)).toBe('reason_required');
  });

  it('a person whose roles change between the click and the submit: the dry run said yes, the vote says not_eligible', async () => {
    const { engine, actionId } = await setup();
    expect(await dryRun(engine, actionId, 'bob', 'deny', undefined)).toBe('recorded');
    engine.directory.setRoles('bob', ['viewer']);
    const refusal = await engine.gate.vote({ actionId, personId: 'bob', decision: 'deny', reason: 'not now', channel: 'api' }).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ code: 'not_eligible' });
    expect(await dryRun(engine, actionId, 'bob', 'deny', undefined)).toBe('not_eligible');
  });

  it('counts earlier approvals with the roles their approvers hold now, as the vote does', async () => {
    const { engine, actionId } = await setup();
    await engine.gate.vote({ actionId, personId: 'alice', decision: 'approve', reason: null, channel: 'api' });
    expect(await dryRun(engine, actionId, 'gina', 'approve', undefined)).toBe('not_eligible');
    // alice loses sre-lead: her approval stops counting, so gina's slot is open again.
    engine.directory.setRoles('alice', []);
    expect(await dryRun(engine, actionId, 'gina', 'approve', undefined)).toBe('recorded');
    expect(await voteOutcome(engine, actionId, 'gina', 'approve', null)).toBe('recorded');
  });

  it('an expired request: refused as expired without closing it; the vote closes it', async () => {
    const { engine, actionId } = await setup();
    engine.clock.advance(601);
    const before = written(engine);
    expect(await dryRun(engine, actionId, 'alice', 'approve', undefined)).toBe('expired');
    expect(written(engine)).toEqual(before);
    expect((await engine.store.findAction(actionId))!.status).toBe('pending');
    expect(await voteOutcome(engine, actionId, 'alice', 'approve', null)).toBe('expired');
    expect((await engine.store.findAction(actionId))!.status).toBe('expired');
    expect(await dryRun(engine, actionId, 'alice', 'approve', undefined)).toBe('expired');
  });

  it('an unknown action is not_found', async () => {
    const { engine } = await setup();
    expect(await dryRun(engine, 'act_nope', 'alice', 'approve', undefined)).toBe('not_found');
  });

  it('property: before every vote of any sequence, the dry run answers what the vote then does', async () => {
    const people = ['olga', 'alice', 'gina', 'bob', 'carol', 'dave'];
    const step = fc.record({
      person: fc.constantFrom(...people),
      decision: fc.constantFrom<VoteDecision>('approve', 'deny'),
      reason: fc.constantFrom<string | null>(null, 'checked'),
      // Sometimes the directory changes between the click and the submit.
      roles: fc.option(fc.subarray(['sre-lead', 'security', 'viewer']), { freq: 4 }),
      rolesOf: fc.constantFrom(...people),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), fc.boolean(), async (steps, reasonRequired) => {
        const { engine, actionId } = await setup({ ...DUAL, approvalReasonRequired: reasonRequired, denyEndsRequest: false });
        for (const s of steps) {
          if (s.roles) engine.directory.setRoles(s.rolesOf, s.roles);
          const before = written(engine);
          const predicted = await dryRun(engine, actionId, s.person, s.decision, s.reason);
          expect(written(engine)).toEqual(before);
          expect(await voteOutcome(engine, actionId, s.person, s.decision, s.reason)).toBe(predicted);
        }
      }),
      { numRuns: 150 },
    );
  });
});
