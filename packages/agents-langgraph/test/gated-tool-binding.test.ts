import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from '@langchain/core/tools';
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { gatedTool, interruptingTool } from '../src/index.ts';

// One approval releases one call with exactly the approved arguments, however the tool is
// invoked: directly (no ToolNode, so no tool call id) or with a schema that transforms input.

const gate = useAgentGate();
let cs: Countersign;
beforeAll(() => {
  ({ cs } = gate);
});

const deletion = ({ name }: Record<string, unknown>) => ({ action: { type: 'environment.delete', resource: String(name) }, context: { environment: 'production' } });

/** A gated delete whose pending actions are announced one by one. */
function gatedDelete() {
  const ran: string[] = [];
  const pending: Action[] = [];
  let wake: (() => void) | undefined;
  const gated = gatedTool(
    cs,
    tool(async ({ name }) => (ran.push(name), `deleted ${name}`), { name: 'delete_environment', description: 'Deletes an environment', schema: z.object({ name: z.string() }) }),
    deletion,
    { onPending: (action) => (pending.push(action), wake?.()) },
  );
  const nextPending = async (count: number): Promise<Action> => {
    while (pending.length < count) await new Promise<void>((resolve) => (wake = resolve));
    return pending[count - 1]!;
  };
  return { gated, ran, pending, nextPending };
}

describe('gatedTool invoked directly (no tool call id)', () => {
  it('a second call with the same arguments needs its own approval: the first one is not replayed', async () => {
    const { gated, ran, nextPending } = gatedDelete();
    const first = gated.invoke({ name: 'env/direct-1' });
    const a = await nextPending(1);
    await gate.vote(a.id, 'alice', 'approve');
    await gate.vote(a.id, 'bob', 'approve');
    expect(await first).toBe('deleted env/direct-1');
    expect(ran).toEqual(['env/direct-1']);

    // Same arguments, a new call: held again as a new action, not run under the first approval.
    const second = gated.invoke({ name: 'env/direct-1' });
    expect(await Promise.race([second.then(() => 'ran under the first approval'), nextPending(2).then(() => 'held')])).toBe('held');
    const b = await nextPending(2);
    expect(b.id).not.toBe(a.id);
    expect(b.status).toBe('pending');
    expect(ran).toEqual(['env/direct-1']);
    await gate.vote(b.id, 'bob', 'deny', 'once is enough');
    expect(String(await second)).toContain(`countersign refused this call (action ${b.id})`);
    expect(ran).toEqual(['env/direct-1']);
  });

  it('interruptingTool without a tool call id cannot find its approval again: refused, not run', async () => {
    const ran: string[] = [];
    const interrupting = interruptingTool(
      cs,
      tool(async ({ name }) => (ran.push(name), `deleted ${name}`), { name: 'delete_environment', description: 'Deletes an environment', schema: z.object({ name: z.string() }) }),
      deletion,
    );
    const result = await interrupting.invoke({ name: 'env/direct-2' });
    expect(String(result)).toMatch(/tool call id/);
    expect(String(result)).toMatch(/It was not run/);
    expect(ran).toEqual([]);
  });
});

describe('gatedTool in a ToolNode, tool call ids reused by the provider', () => {
  it('the same id and arguments in another thread are held for their own approval', async () => {
    const { gated, ran, nextPending } = gatedDelete();
    const graph = (thread: string) => {
      let model = fakeModel();
      for (const reply of [new AIMessage({ content: '', tool_calls: [{ id: 'call_0', name: 'delete_environment', args: { name: 'env/lg-reused' } }] }), new AIMessage('Done.')]) model = model.respond(reply);
      const compiled = new StateGraph(MessagesAnnotation)
        .addNode('agent', async (state) => ({ messages: [await model.invoke(state.messages)] }))
        .addNode('tools', new ToolNode([gated]))
        .addEdge(START, 'agent')
        .addConditionalEdges('agent', toolsCondition, ['tools', END])
        .addEdge('tools', 'agent')
        .compile({ checkpointer: new MemorySaver() });
      return compiled.invoke({ messages: [new HumanMessage('Delete env/lg-reused')] }, { configurable: { thread_id: thread } });
    };
    const first = graph('thread-a');
    const a = await nextPending(1);
    await gate.vote(a.id, 'alice', 'approve');
    await gate.vote(a.id, 'bob', 'approve');
    await first;
    expect(ran).toEqual(['env/lg-reused']);

    const second = graph('thread-b');
    expect(await Promise.race([second.then(() => 'ran under the first approval'), nextPending(2).then(() => 'held')])).toBe('held');
    const b = await nextPending(2);
    expect(b.id).not.toBe(a.id);
    await gate.vote(b.id, 'bob', 'deny', 'once is enough');
    await second;
    expect(ran).toEqual(['env/lg-reused']);
  });
});

describe('gatedTool with a schema that transforms its input', () => {
  it('the tool never runs with other values than the approved ones (a transform applied twice is refused)', async () => {
    const paid: number[] = [];
    const approved: unknown[] = [];
    // Dollars in, cents out: applying it to its own output multiplies again.
    const pay = tool(async ({ cents }) => (paid.push(cents), `paid ${cents}`), { name: 'pay', description: 'Pays', schema: z.object({ cents: z.number().transform((dollars) => dollars * 100) }) });
    const gated = gatedTool(cs, pay, (args) => (approved.push(args), { action: { type: 'payment.send', resource: 'acct/1', params: args }, authority: { changeTicket: 'CHG-1' } }));
    const result = await gated.invoke({ id: 'call_pay_1', name: 'pay', args: { cents: 5 }, type: 'tool_call' });
    expect(approved).toEqual([{ cents: 500 }]);
    // Whatever the answer, nothing ran with a value nobody approved.
    expect(paid.filter((cents) => cents !== 500)).toEqual([]);
    expect(paid).toEqual([]);
    expect(result).toBeInstanceOf(ToolMessage);
    expect((result as ToolMessage).status).toBe('error');
    expect(String((result as ToolMessage).content)).toMatch(/schema changes the approved arguments/);
  });

  it('an idempotent transform (trim, default) runs with the approved values', async () => {
    const ran: unknown[] = [];
    const t = tool(async (args) => (ran.push(args), 'ok'), {
      name: 'pay_trimmed',
      description: 'Pays',
      schema: z.object({ account: z.string().trim(), currency: z.string().default('EUR') }),
    });
    const gated = gatedTool(cs, t, (args) => ({ action: { type: 'payment.send', resource: String(args.account) }, authority: { changeTicket: 'CHG-2' } }));
    expect(await gated.invoke({ account: '  acct/2 ' })).toBe('ok');
    expect(ran).toEqual([{ account: 'acct/2', currency: 'EUR' }]);
  });
});
