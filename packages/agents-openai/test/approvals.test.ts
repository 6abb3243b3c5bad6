import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, run, RunState, setTracingDisabled, type ModelResponse } from '@openai/agents';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import type { TestService } from '../../../test/support/service.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { CountersignApprovals } from '../src/index.ts';
import { callTool, say, ScriptedModel } from './scripted-model.ts';

// The real @openai/agents run loop with a scripted model (no network) and a real countersign
// service: needsApproval → interruption → countersign decides → state.approve/reject → resume.

setTracingDisabled(true);

/** What the model was told a tool call returned. */
const toolOutputs = (model: ScriptedModel) =>
  model.requests.flatMap((r) => (Array.isArray(r.input) ? r.input : [])).filter((item) => item.type === 'function_call_result').map((item) => JSON.stringify((item as { output: unknown }).output));

const gate = useAgentGate();
let t: TestService;
let cs: Countersign;
beforeAll(() => {
  ({ t, cs } = gate);
});
const vote = gate.vote;

function setup(script: ModelResponse['output'][]) {
  const deleted: unknown[] = [];
  const pending: Action[] = [];
  let onPending!: (action: Action) => void;
  const firstPending = new Promise<Action>((resolve) => (onPending = resolve));
  const approvals = new CountersignApprovals(cs, { onPending: (action) => (pending.push(action), onPending(action)) });
  const deleteEnvironment = approvals.tool({
    name: 'delete_environment',
    description: 'Deletes an environment',
    parameters: z.object({ name: z.string() }),
    execute: async (args) => (deleted.push(args), `deleted ${args.name}`),
    intent: ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' }, risk: { class: 'destructive' } }),
  });
  const model = new ScriptedModel(script);
  const agent = new Agent({ name: 'ops', instructions: 'You run operations.', model, tools: [deleteEnvironment] });
  return { approvals, agent, model, deleted, pending, firstPending };
}

describe('CountersignApprovals (OpenAI Agents SDK)', () => {
  it('holds the run on the interruption until two people approve, then runs the tool with the approved arguments', async () => {
    const s = setup([callTool('call_a1', 'delete_environment', { name: 'env/oa-1' }), say('Deleted.')]);
    const finished = s.approvals.run(s.agent, 'Delete env/oa-1');
    const action = await s.firstPending;
    expect(action.actionType).toBe('environment.delete');
    expect(s.deleted).toEqual([]);
    await vote(action.id, 'alice', 'approve');
    await vote(action.id, 'bob', 'approve');
    const result = await finished;
    expect(result.finalOutput).toBe('Deleted.');
    expect(s.deleted).toEqual([{ name: 'env/oa-1' }]);
    expect(toolOutputs(s.model).join()).toContain('deleted env/oa-1');
    expect(s.approvals.releaseToken('call_a1')).toMatch(/^ey/);
  });

  it('a refusal reaches the model as the rejected call’s output, with the reason and the action id', async () => {
    const s = setup([callTool('call_r1', 'delete_environment', { name: 'env/oa-2' }), say('It was refused.')]);
    const finished = s.approvals.run(s.agent, 'Delete env/oa-2');
    const action = await s.firstPending;
    await vote(action.id, 'bob', 'deny', 'customers still on it');
    const result = await finished;
    expect(result.finalOutput).toBe('It was refused.');
    expect(s.deleted).toEqual([]);
    const told = toolOutputs(s.model).join();
    expect(told).toContain(`countersign refused this call (action ${action.id})`);
    expect(told).toContain('customers still on it');
  });

  it('resumes after a restart from the serialised RunState with its run id, finding the same action', async () => {
    // Process one: the run stops on the interruption, the state is saved, the decision is asked for, and the process dies.
    const first = setup([callTool('call_s1', 'delete_environment', { name: 'env/oa-3' })]);
    const stopped = await run(first.agent, 'Delete env/oa-3');
    expect(stopped.interruptions).toHaveLength(1);
    const saved = stopped.state.toString();
    // The caller's own id for this conversation, kept with the saved state.
    const runId = 'conversation-oa-3';
    void first.approvals.decide(stopped.state, undefined, { runId });
    const submitted = await first.firstPending;

    // Process two: new objects, the saved state; the same call finds the same action.
    const second = setup([say('Deleted after approval.')]);
    const state = await RunState.fromString(second.agent, saved);
    const finished = second.approvals.run(second.agent, state, undefined, { runId });
    expect((await second.firstPending).id).toBe(submitted.id);
    await vote(submitted.id, 'carol', 'approve');
    await vote(submitted.id, 'judy', 'approve');
    const result = await finished;
    expect(result.finalOutput).toBe('Deleted after approval.');
    expect(second.deleted).toEqual([{ name: 'env/oa-3' }]);
    expect(first.deleted).toEqual([]);
  });
});
