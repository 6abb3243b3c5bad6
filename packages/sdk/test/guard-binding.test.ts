import { beforeAll, describe, expect, it } from 'vitest';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, CountersignError, currentRelease, type Action } from '../src/index.ts';

// guard(describe, fn): fn runs only with what was approved. The arguments are the caller's
// objects; if they change while people decide, what would run is no longer what was approved.

const gate = useAgentGate();
let cs: Countersign;
beforeAll(() => {
  ({ cs } = gate);
});

interface Deletion {
  name: string;
  environment: string;
}

function guardedDelete() {
  const ran: Deletion[] = [];
  let pending!: (action: Action) => void;
  const held = new Promise<Action>((resolve) => (pending = resolve));
  const run = cs.guard(
    (d: Deletion) => ({ action: { type: 'environment.delete', resource: d.name, params: { ...d } }, context: { environment: d.environment } }),
    async (d: Deletion) => (ran.push({ ...d }), currentRelease()!.action.id),
    { onPending: (action) => pending(action) },
  );
  return { run, ran, held };
}

describe('guard', () => {
  it('arguments changed while people decide: the approval does not cover them, fn does not run', async () => {
    const { run, ran, held } = guardedDelete();
    const deletion: Deletion = { name: 'env/prod-guard-1', environment: 'production' };
    const outcome = run(deletion).then(() => undefined, (err: unknown) => err);
    const action = await held;
    // The caller (a buggy loop, a shared object) changes the arguments during the wait.
    deletion.name = 'env/prod-everything';
    await gate.vote(action.id, 'alice', 'approve');
    await gate.vote(action.id, 'bob', 'approve');
    const error = await outcome;
    expect(error).toBeInstanceOf(CountersignError);
    expect(String((error as Error).message)).toContain(action.id);
    expect(String((error as Error).message)).toMatch(/arguments changed/);
    expect(ran).toEqual([]);
  });

  it('unchanged arguments run once approved, under that approval', async () => {
    const { run, ran, held } = guardedDelete();
    const deletion: Deletion = { name: 'env/prod-guard-2', environment: 'production' };
    const result = run(deletion);
    const action = await held;
    await gate.vote(action.id, 'alice', 'approve');
    await gate.vote(action.id, 'bob', 'approve');
    expect(await result).toBe(action.id);
    expect(ran).toEqual([deletion]);
  });
});

describe('guard and one execution per approval', () => {
  it('a call that finds an approval that already released a call (a fixed idempotencyKey) does not run again', async () => {
    const ran: string[] = [];
    const pay = cs.guard(
      (to: string) => ({ action: { type: 'payment.send', resource: `acct/${to}` }, authority: { changeTicket: 'CHG-7' } }),
      async (to: string) => (ran.push(to), currentRelease()!.action.id),
      // A key fixed for every call: each later call with the same arguments finds the first action.
      { idempotencyKey: 'pay-bob-once' },
    );
    const first = await pay('bob');
    expect(ran).toEqual(['bob']);
    const again = await pay('bob').then(() => undefined, (err: unknown) => err);
    expect(again).toBeInstanceOf(CountersignError);
    expect(String((again as Error).message)).toContain(first);
    expect(String((again as Error).message)).toMatch(/already released/);
    expect(ran).toEqual(['bob']);
  });
});
