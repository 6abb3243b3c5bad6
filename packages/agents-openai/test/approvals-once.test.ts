import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, run, RunState, setTracingDisabled, type ModelResponse } from '@openai/agents';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { CountersignApprovals } from '../src/index.ts';
import { callTool as callNamed, say, ScriptedModel } from './scripted-model.ts';

const callTool = (callId: string, args: unknown) => callNamed(callId, 'delete_environment', args);

// One approval releases one execution. A saved RunState resumed twice (a double-clicked
// "resume", a retried request) finds the same approved action by its Idempotency-Key: the tool
// must not run a second time under it.

setTracingDisabled(true);

const gate = useAgentGate();
let cs: Countersign;
beforeAll(() => {
  ({ cs } = gate);
});

describe('CountersignApprovals, one execution per approval', () => {
  it('the same saved state resumed twice runs the tool once', async () => {
    const deleted: unknown[] = [];
    let onPending!: (action: Action) => void;
    const firstPending = new Promise<Action>((resolve) => (onPending = resolve));
    const approvals = new CountersignApprovals(cs, { onPending: (action) => onPending(action) });
    const deleteEnvironment = approvals.tool({
      name: 'delete_environment',
      description: 'Deletes an environment',
      parameters: z.object({ name: z.string() }),
      execute: async (args) => (deleted.push(args), `deleted ${args.name}`),
      intent: ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } }),
    });
    const agent = (script: ModelResponse['output'][]) => new Agent({ name: 'ops', instructions: 'You run operations.', model: new ScriptedModel(script), tools: [deleteEnvironment] });

    const stopped = await run(agent([callTool('call_once', { name: 'env/oa-once' })]), 'Delete env/oa-once');
    const saved = stopped.state.toString();
    const resuming = agent([say('Deleted.')]);
    // The caller's id for this conversation: the saved state is the same run each time.
    const runId = 'conversation-once';
    const deciding = approvals.run(resuming, await RunState.fromString(resuming, saved), undefined, { runId });
    const action = await firstPending;
    await gate.vote(action.id, 'alice', 'approve');
    await gate.vote(action.id, 'bob', 'approve');
    expect((await deciding).finalOutput).toBe('Deleted.');
    expect(deleted).toEqual([{ name: 'env/oa-once' }]);

    // The same saved state again: the same action is found, already used.
    const resumingAgain = agent([say('Not again.')]);
    const again = await approvals.run(resumingAgain, await RunState.fromString(resumingAgain, saved), undefined, { runId });
    expect(again.finalOutput).toBe('Not again.');
    expect(deleted).toEqual([{ name: 'env/oa-once' }]);
  });
});
