import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, run, RunState, setTracingDisabled, type ModelResponse } from '@openai/agents';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { CountersignApprovals } from '../src/index.ts';
import { callTool as callNamed, say, ScriptedModel, type ResponseIds } from './scripted-model.ts';

// An approval belongs to the call of the run that asked, not to every call with the same id.
// Some providers number tool calls per conversation (`call_0` every time), proxies repeat one
// response id, the SDK writes 'FAKE_ID' for a streamed response without one, and callers share
// one context object across conversations: a later conversation making the same call, in this
// process or after a restart, must be asked again, never run under the earlier approval. A
// state resumed after a restart finds its own action when the caller names the run (runId).

setTracingDisabled(true);

const callTool = (callId: string, args: unknown) => callNamed(callId, 'delete_environment', args);

const gate = useAgentGate();

/** What one process has: its own client and CountersignApprovals (nothing remembered from before). */
function aProcess(deleted: unknown[], responseIds: ResponseIds) {
  const pending: Action[] = [];
  const cs = new Countersign({ baseUrl: gate.t.url, apiKey: gate.t.tokens['deploy-bot']! });
  const approvals = new CountersignApprovals(cs, { timeout: 20_000, onPending: (action) => pending.push(action) });
  const tool = approvals.tool({
    name: 'delete_environment',
    description: 'Deletes an environment',
    parameters: z.object({ name: z.string() }),
    execute: async (args) => (deleted.push(args), `deleted ${args.name}`),
    intent: ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } }),
  });
  const agent = (script: ModelResponse['output'][]) => new Agent({ name: 'ops', instructions: 'You run operations.', model: new ScriptedModel(script, responseIds), tools: [tool] });
  const nextPending = async (seen: number): Promise<Action> => {
    while (pending.length <= seen) await new Promise((resolve) => setTimeout(resolve, 25));
    return pending[seen]!;
  };
  return { approvals, agent, pending, nextPending };
}

async function approve(actionId: string): Promise<void> {
  await gate.vote(actionId, 'alice', 'approve');
  await gate.vote(actionId, 'bob', 'approve');
}

describe('CountersignApprovals: an approval is scoped to the run that asked', () => {
  it.each([
    ['gives no response ids', 'none'],
    ['gives each response an id', 'unique'],
    ['gives every response the same id', 'constant'],
  ] as const)('a provider that reuses call ids and %s: a second conversation after a restart is asked again', async (_what, responseIds) => {
    const deleted: unknown[] = [];
    const first = aProcess(deleted, responseIds);
    const monday = first.approvals.run(first.agent([callTool('call_0', { name: 'env/scope-1' }), say('Deleted.')]), 'Delete env/scope-1 (monday)');
    const asked = await first.nextPending(0);
    await approve(asked.id);
    expect((await monday).finalOutput).toBe('Deleted.');
    expect(deleted).toHaveLength(1);

    // Another process, another conversation: the model says call_0 with the same arguments.
    const second = aProcess(deleted, responseIds);
    const friday = second.approvals.run(second.agent([callTool('call_0', { name: 'env/scope-1' }), say('Not deleted.')]), 'Delete env/scope-1 (friday)');
    const askedAgain = await second.nextPending(0);
    expect(askedAgain.id).not.toBe(asked.id);
    expect(deleted).toHaveLength(1);
    await gate.vote(askedAgain.id, 'alice', 'deny', 'not this time');
    expect((await friday).finalOutput).toBe('Not deleted.');
    expect(deleted).toHaveLength(1);
  });

  it('in one process, a second conversation with the same call id is asked again, not refused as already run', async () => {
    const deleted: unknown[] = [];
    const one = aProcess(deleted, 'constant');
    const first = one.approvals.run(one.agent([callTool('call_0', { name: 'env/scope-2' }), say('Deleted.')]), 'Delete env/scope-2');
    const asked = await one.nextPending(0);
    await approve(asked.id);
    expect((await first).finalOutput).toBe('Deleted.');

    const again = one.approvals.run(one.agent([callTool('call_0', { name: 'env/scope-2' }), say('Deleted again.')]), 'Delete env/scope-2 again');
    const askedAgain = await one.nextPending(1);
    expect(askedAgain.id).not.toBe(asked.id);
    await approve(askedAgain.id);
    expect((await again).finalOutput).toBe('Deleted again.');
    expect(deleted).toEqual([{ name: 'env/scope-2' }, { name: 'env/scope-2' }]);
  });

  it('a state restored in another process with its run id finds its own action; resumed twice, runs once', async () => {
    const deleted: unknown[] = [];
    const runId = 'conversation-scope-3';
    const first = aProcess(deleted, 'none');
    const stopped = await run(first.agent([callTool('call_r', { name: 'env/scope-3' })]), 'Delete env/scope-3');
    const saved = stopped.state.toString();
    void first.approvals.decide(stopped.state, undefined, { runId }).catch(() => undefined);
    const asked = await first.nextPending(0);

    const second = aProcess(deleted, 'none');
    const resuming = second.agent([say('Deleted.')]);
    const resumed = second.approvals.run(resuming, await RunState.fromString(resuming, saved), undefined, { runId });
    expect((await second.nextPending(0)).id).toBe(asked.id);
    await approve(asked.id);
    expect((await resumed).finalOutput).toBe('Deleted.');
    expect(deleted).toEqual([{ name: 'env/scope-3' }]);
    // The same saved state once more, in that process: the same action, already run.
    const again = second.agent([say('Not again.')]);
    expect((await second.approvals.run(again, await RunState.fromString(again, saved), undefined, { runId })).finalOutput).toBe('Not again.');
    expect(deleted).toEqual([{ name: 'env/scope-3' }]);
  });

  it('without a run id, a state restored in another process asks again: a second request, never a run under the first approval', async () => {
    const deleted: unknown[] = [];
    const shared = { tenant: 'acme' };
    const first = aProcess(deleted, 'constant');
    const stopped = await run(first.agent([callTool('call_f', { name: 'env/scope-6' })]), 'Delete env/scope-6', { context: shared });
    const saved = stopped.state.toString();
    void first.approvals.decide(stopped.state).catch(() => undefined);
    await approve((await first.nextPending(0)).id);

    const second = aProcess(deleted, 'constant');
    const resuming = second.agent([say('Not deleted.')]);
    const resumed = second.approvals.run(resuming, await RunState.fromString(resuming, saved));
    const askedAgain = await second.nextPending(0);
    expect(askedAgain.id).not.toBe(first.pending[0]!.id);
    await gate.vote(askedAgain.id, 'alice', 'deny', 'asked twice; no');
    expect((await resumed).finalOutput).toBe('Not deleted.');
    expect(deleted).toEqual([]);
  });

  it('one run making the same call (same id, same arguments) in a later turn: the SDK counts it approved, the adapter never runs it twice', async () => {
    const deleted: unknown[] = [];
    const one = aProcess(deleted, 'constant');
    const running = one.approvals.run(one.agent([callTool('call_0', { name: 'env/scope-4' }), callTool('call_0', { name: 'env/scope-4' }), say('Done.')]), 'Delete env/scope-4, then again');
    await approve((await one.nextPending(0)).id);
    expect((await running).finalOutput).toBe('Done.');
    expect(one.pending).toHaveLength(1);
    expect(deleted).toHaveLength(1);
  });

  it('conversations the caller runs itself on one shared context, decided by another CountersignApprovals: each is asked', async () => {
    const deleted: unknown[] = [];
    const shared = { tenant: 'acme' };
    const one = aProcess(deleted, 'constant');
    const other = aProcess(deleted, 'constant');
    for (const [who, n] of [[one, 0], [other, 0]] as const) {
      const stopped = await run(who.agent([callTool('call_0', { name: 'env/scope-7' })]), 'Delete env/scope-7', { context: shared });
      const deciding = who.approvals.decide(stopped.state);
      await approve((await who.nextPending(n)).id);
      await deciding;
    }
    expect(one.pending[0]!.id).not.toBe(other.pending[0]!.id);
  });
});
