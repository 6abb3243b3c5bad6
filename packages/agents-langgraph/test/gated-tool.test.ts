import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { END, MemorySaver, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import type { TestService } from '../../../test/support/service.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { currentRelease, gatedTool, interruptingTool, isCountersignInterrupt, resumeWhenDecided } from '../src/index.ts';

// The real LangGraph.js runtime (StateGraph, ToolNode, interrupt, MemorySaver) with LangChain's
// own scripted chat model (no network) and a real countersign service deciding.

const gate = useAgentGate();
let t: TestService;
let cs: Countersign;
beforeAll(() => {
  ({ t, cs } = gate);
});
const vote = gate.vote;
const deletion = ({ name }: Record<string, unknown>) => ({ action: { type: 'environment.delete', resource: String(name) }, context: { environment: 'production' } });

function environmentTool(deleted: unknown[]) {
  return tool(async ({ name }) => (deleted.push({ name, token: currentRelease()?.releaseToken }), `deleted ${name}`), {
    name: 'delete_environment',
    description: 'Deletes an environment',
    schema: z.object({ name: z.string() }),
  });
}

function agentGraph(tools: ConstructorParameters<typeof ToolNode>[0], replies: AIMessage[], checkpointer?: BaseCheckpointSaver) {
  let model = fakeModel();
  for (const reply of replies) model = model.respond(reply);
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state) => ({ messages: [await model.invoke(state.messages)] }))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile(checkpointer ? { checkpointer } : {});
}

const askToDelete = (id: string, name: string) => new AIMessage({ content: '', tool_calls: [{ id, name: 'delete_environment', args: { name } }] });
const toolMessages = (messages: BaseMessage[]) => messages.filter((m): m is ToolMessage => m instanceof ToolMessage);

describe('gatedTool in a ToolNode', () => {
  it('the tool runs once two people approve, with the approved arguments and the release token', async () => {
    const deleted: unknown[] = [];
    let pending!: (a: Action) => void;
    const held = new Promise<Action>((resolve) => (pending = resolve));
    const graph = agentGraph([gatedTool(cs, environmentTool(deleted), deletion, { onPending: (a) => pending(a) })], [askToDelete('call_g1', 'env/lg-1'), new AIMessage('Deleted.')]);
    const running = graph.invoke({ messages: [new HumanMessage('Delete env/lg-1')] });
    const action = await held;
    expect(deleted).toEqual([]);
    await vote(action.id, 'alice', 'approve');
    await vote(action.id, 'bob', 'approve');
    const { messages } = await running;
    expect(deleted).toEqual([{ name: 'env/lg-1', token: expect.stringMatching(/^ey/) }]);
    expect(toolMessages(messages).map((m) => [m.content, m.status])).toEqual([['deleted env/lg-1', 'success']]);
    expect(messages.at(-1)?.content).toBe('Deleted.');
  });

  it('a refusal is the call’s ToolMessage with status "error", the reason and the action id', async () => {
    const deleted: unknown[] = [];
    let pending!: (a: Action) => void;
    const held = new Promise<Action>((resolve) => (pending = resolve));
    const graph = agentGraph([gatedTool(cs, environmentTool(deleted), deletion, { onPending: (a) => pending(a) })], [askToDelete('call_g2', 'env/lg-2'), new AIMessage('Refused.')]);
    const running = graph.invoke({ messages: [new HumanMessage('Delete env/lg-2')] });
    const action = await held;
    await vote(action.id, 'bob', 'deny', 'customers still on it');
    const { messages } = await running;
    expect(deleted).toEqual([]);
    const [message] = toolMessages(messages);
    expect(message?.status).toBe('error');
    expect(message?.content).toContain(`countersign refused this call (action ${action.id})`);
    expect(message?.content).toContain('customers still on it');
  });
});

describe('interruptingTool with a checkpointer', () => {
  it('interrupts while people decide; after a restart, resumes from the checkpoint onto the same action and runs once', async () => {
    const checkpointer = new MemorySaver(); // stands for a persistent checkpointer shared by both processes
    const config = { configurable: { thread_id: 'thread-restart' } };

    // Process one: the graph stops on the interrupt; nothing waits in memory.
    const deletedBefore: unknown[] = [];
    const first = agentGraph([interruptingTool(cs, environmentTool(deletedBefore), deletion)], [askToDelete('call_i1', 'env/lg-3')], checkpointer);
    const stopped = await first.invoke({ messages: [new HumanMessage('Delete env/lg-3')] }, config);
    const interrupts = (stopped as { __interrupt__?: { value: unknown }[] }).__interrupt__ ?? [];
    expect(interrupts).toHaveLength(1);
    const value = interrupts[0]!.value;
    expect(isCountersignInterrupt(value)).toBe(true);
    const actionId = (value as { countersign: { actionId: string } }).countersign.actionId;
    expect(value).toMatchObject({ countersign: { status: 'pending', tool: 'delete_environment', waitingFor: [{ role: 'sre-lead', count: 1 }, { role: 'security', count: 1 }] } });

    // People decide while no process runs the graph.
    await vote(actionId, 'alice', 'approve');
    await vote(actionId, 'bob', 'approve');

    // Process two: new graph and tools, the same checkpointer and thread.
    const deletedAfter: unknown[] = [];
    const second = agentGraph([interruptingTool(cs, environmentTool(deletedAfter), deletion)], [new AIMessage('Deleted after approval.')], checkpointer);
    const result = await resumeWhenDecided(second, config, cs);
    expect(deletedBefore).toEqual([]);
    expect(deletedAfter).toEqual([{ name: 'env/lg-3', token: expect.stringMatching(/^ey/) }]);
    expect(result?.messages.at(-1)?.content).toBe('Deleted after approval.');
    // The same action, found again by its Idempotency-Key: no second request for people.
    const mine = await t.api('GET', '/v1/actions?limit=100', { token: t.tokens['deploy-bot']! });
    expect(mine.body.items.map((a: { id: string }) => a.id)).toContain(actionId);
    expect(mine.body.items.filter((a: { id: string; status: string; actionType: string }) => a.actionType === 'environment.delete' && a.status === 'pending')).toEqual([]);
  });

  it('a refusal decided while interrupted resumes into an error ToolMessage; the tool never runs', async () => {
    const checkpointer = new MemorySaver();
    const config = { configurable: { thread_id: 'thread-refused' } };
    const deleted: unknown[] = [];
    const graph = agentGraph([interruptingTool(cs, environmentTool(deleted), deletion)], [askToDelete('call_i2', 'env/lg-4'), new AIMessage('Refused.')], checkpointer);
    const stopped = await graph.invoke({ messages: [new HumanMessage('Delete env/lg-4')] }, config);
    const actionId = ((stopped as unknown as { __interrupt__: { value: { countersign: { actionId: string } } }[] }).__interrupt__[0]!.value.countersign.actionId);
    await vote(actionId, 'judy', 'deny', 'not during the freeze');
    const result = await resumeWhenDecided(graph, config, cs);
    expect(deleted).toEqual([]);
    const [message] = toolMessages(result!.messages);
    expect(message?.status).toBe('error');
    expect(message?.content).toContain(`countersign refused this call (action ${actionId})`);
    expect(message?.content).toContain('not during the freeze');
  });
});
