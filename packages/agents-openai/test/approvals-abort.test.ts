import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, setTracingDisabled } from '@openai/agents';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { CountersignApprovals } from '../src/index.ts';
import { ScriptedModel } from './scripted-model.ts';

// A run aborted (its `signal`) while countersign waits for people: the run ends with the abort,
// and the pending action is withdrawn rather than left for people to approve a call nobody runs.

setTracingDisabled(true);

const gate = useAgentGate();
let cs: Countersign;
beforeAll(() => {
  ({ cs } = gate);
});

describe('CountersignApprovals and an aborted run', () => {
  it('aborting the run while people decide ends it and withdraws the action', async () => {
    const deleted: unknown[] = [];
    let onPending!: (action: Action) => void;
    const pending = new Promise<Action>((resolve) => (onPending = resolve));
    const approvals = new CountersignApprovals(cs, { onPending: (action) => onPending(action) });
    const deleteEnvironment = approvals.tool({
      name: 'delete_environment',
      description: 'Deletes an environment',
      parameters: z.object({ name: z.string() }),
      execute: async (args) => (deleted.push(args), 'deleted'),
      intent: ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } }),
    });
    const model = new ScriptedModel([[{ type: 'function_call', id: 'fc_ab', callId: 'call_abort', name: 'delete_environment', status: 'completed', arguments: '{"name":"env/oa-abort"}' }]]);
    const agent = new Agent({ name: 'ops', instructions: 'You run operations.', model, tools: [deleteEnvironment] });
    const controller = new AbortController();
    const running = approvals.run(agent, 'Delete env/oa-abort', { signal: controller.signal });
    const outcome = running.then(() => 'finished', (err: unknown) => err);
    const action = await pending;
    controller.abort(new Error('the user closed the chat'));
    expect(String(await outcome)).toContain('the user closed the chat');
    const after = await gate.t.api('GET', `/v1/actions/${action.id}`, { token: gate.t.tokens['deploy-bot']! });
    expect(after.body.status).toBe('cancelled');
    expect(deleted).toEqual([]);
  });
});
