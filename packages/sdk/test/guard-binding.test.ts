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
