import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RoleGroup } from '@countersign/contracts';
import { approverRolesNow, currentApprovals, fillsOpenSlot, personBinding, progress, type Approval } from '../src/index.ts';
import { bruteForceMaximum, slotCount } from './support/brute-force.ts';

// Dual control is a matching problem (slots.ts). These properties pin what the matching must
// guarantee, against an exhaustive reference on inputs small enough to enumerate.

const RUNS = 1000;
const ROLES = ['sre-lead', 'security', 'dba', 'finance'];

const groupsArb: fc.Arbitrary<RoleGroup[]> = fc
  .uniqueArray(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 3 })
  .chain((roles) => fc.tuple(...roles.map((role) => fc.integer({ min: 1, max: 3 }).map((count) => ({ role, count })))));

/** Distinct people (the store's unique index guarantees one vote each), each with some roles. */
const approvalsArb: fc.Arbitrary<Approval[]> = fc
  .array(fc.subarray(ROLES), { maxLength: 7 })
  .map((roleSets) => roleSets.map((roles, i) => ({ personId: `p${i}`, roles })));

/** The approvals together with a reordering of them. */
const reorderedArb = approvalsArb.chain((approvals) =>
  fc.tuple(fc.constant(approvals), fc.shuffledSubarray(approvals, { minLength: approvals.length, maxLength: approvals.length })),
);

const openTotal = (open: RoleGroup[]) => open.reduce((n, g) => n + g.count, 0);
/** Every set of roles a next approver could hold. */
const ROLE_SETS: string[][] = Array.from({ length: 1 << ROLES.length }, (_, mask) => ROLES.filter((_, i) => mask & (1 << i)));

describe('slot matching (dual control)', () => {
  it('the order of approvals never changes the outcome', () => {
    fc.assert(
      fc.property(groupsArb, reorderedArb, (groups, [approvals, reordered]) => {
        const a = progress(groups, approvals);
        const b = progress(groups, reordered);
        expect(b.filled).toBe(a.filled);
        expect(b.filled === b.needed).toBe(a.filled === a.needed);
        // Whoever comes next is judged the same way, whatever order the earlier approvals came in.
        for (const roles of ROLE_SETS) {
          const candidate = { personId: 'next', roles };
          expect(fillsOpenSlot(groups, reordered, candidate)).toBe(fillsOpenSlot(groups, approvals, candidate));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('one person never fills two slots, and every slot is filled by someone holding its role', () => {
    fc.assert(
      fc.property(groupsArb, approvalsArb, (groups, approvals) => {
        const p = progress(groups, approvals);
        const people = p.assignment.map((s) => s.personId);
        expect(new Set(people).size).toBe(people.length);
        for (const slot of p.assignment) {
          expect(approvals.find((a) => a.personId === slot.personId)!.roles).toContain(slot.role);
        }
        for (const g of groups) {
          expect(p.assignment.filter((s) => s.role === g.role).length).toBeLessThanOrEqual(g.count);
        }
        expect(p.filled).toBe(p.assignment.length);
        expect(p.needed).toBe(slotCount(groups));
        expect(p.filled + openTotal(p.open)).toBe(p.needed);
      }),
      { numRuns: RUNS },
    );
  });

  it('the assignment is maximum (equal to an exhaustive search)', () => {
    fc.assert(
      fc.property(groupsArb, approvalsArb, (groups, approvals) => {
        expect(progress(groups, approvals).filled).toBe(bruteForceMaximum(groups, approvals));
      }),
      { numRuns: RUNS },
    );
  });

  it('an approval fills an open slot exactly when it grows the maximum assignment', () => {
    fc.assert(
      fc.property(groupsArb, approvalsArb, fc.subarray(ROLES), (groups, approvals, roles) => {
        const candidate = { personId: 'candidate', roles };
        const grows = bruteForceMaximum(groups, [...approvals, candidate]) > bruteForceMaximum(groups, approvals);
        expect(fillsOpenSlot(groups, approvals, candidate)).toBe(grows);
      }),
      { numRuns: RUNS },
    );
  });

  it('a person holding two needed roles takes the one nobody else can fill, whoever came first', () => {
    const lead = { role: 'sre-lead', count: 1 };
    const security = { role: 'security', count: 1 };
    const carol = { personId: 'carol', roles: ['sre-lead', 'security'] };
    const bob = { personId: 'bob', roles: ['security'] };
    for (const groups of [[lead, security], [security, lead]]) {
      for (const approvals of [[carol, bob], [bob, carol]]) {
        const p = progress(groups, approvals);
        expect(p.filled).toBe(2);
        expect(p.assignment).toEqual(expect.arrayContaining([{ personId: 'carol', role: 'sre-lead' }, { personId: 'bob', role: 'security' }]));
      }
    }
    const groups = [lead, security];
    // Two people who can only fill the same slot are not dual control.
    expect(progress(groups, [bob, { personId: 'dan', roles: ['security'] }]).open).toEqual([{ role: 'sre-lead', count: 1 }]);
  });
});

describe('approvals as they count now', () => {
  const votes = [
    { personId: 'alice', decision: 'approve', roles: ['sre-lead'] },
    { personId: 'bob', decision: 'approve', roles: ['security'] },
    { personId: 'dan', decision: 'deny', roles: ['security'] },
    { personId: 'gone', decision: 'approve', roles: ['security'] },
  ];

  it('drops a role revoked since the vote, a person removed from the directory, and denies', () => {
    const now: Record<string, string[]> = { alice: [], bob: ['security'], dan: ['security'] };
    expect(currentApprovals(votes, (id) => now[id])).toEqual([
      { personId: 'alice', roles: [] },
      { personId: 'bob', roles: ['security'] },
    ]);
  });

  it('never counts a role gained after the vote', () => {
    const now: Record<string, string[]> = { alice: ['sre-lead', 'security'], bob: ['security'] };
    expect(currentApprovals(votes, (id) => now[id])).toContainEqual({ personId: 'alice', roles: ['sre-lead'] });
  });
});

describe('approvals follow the person, not the id', () => {
  const people: Record<string, { roles: string[]; email: string }> = {
    carol: { roles: ['sre-lead'], email: 'carla@example.com' }, // the id given to a newcomer
    'carol.nguyen': { roles: ['sre-lead', 'security'], email: 'Carol@example.com' }, // Carol, renamed
    bob: { roles: ['security'], email: 'bob@example.com' },
    olga: { roles: ['security'], email: 'olga@example.com' },
  };
  const directory = {
    person: (id: string) => people[id],
    actorOf: (id: string) => (id === 'deploy-bot' ? { owner: 'olga' } : undefined),
  };
  const action = { actorId: 'deploy-bot', requirement: { ownerMayApprove: false } };
  const carol = personBinding({ email: 'carol@example.com' });

  it('binds by email as identities are compared, never by id', () => {
    expect(personBinding({ email: ' CAROL@example.com ' })).toBe(carol);
    expect(personBinding({ email: 'carla@example.com' })).not.toBe(carol);
  });

  it('drops a vote whose id now names someone else; keeps one whose binding still matches, and legacy ones', () => {
    const votes = [
      { personId: 'carol', decision: 'approve', roles: ['sre-lead'], binding: carol },
      { personId: 'bob', decision: 'approve', roles: ['security'], binding: personBinding(people.bob!) },
    ];
    expect(currentApprovals(votes, approverRolesNow(action, directory))).toEqual([{ personId: 'bob', roles: ['security'] }]);
    const legacy = votes.map((v) => ({ ...v, binding: null }));
    expect(currentApprovals(legacy, approverRolesNow(action, directory)).map((a) => a.personId)).toEqual(['carol', 'bob']);
  });

  it("never counts the agent's owner, whatever id their vote was cast under", () => {
    const votes = [{ personId: 'olga.old', decision: 'approve', roles: ['security'], binding: personBinding(people.olga!) }];
    const renamedBack = { ...directory, person: (id: string) => (id === 'olga.old' ? people.olga : people[id]) };
    expect(currentApprovals(votes, approverRolesNow(action, renamedBack))).toEqual([]);
  });
});
