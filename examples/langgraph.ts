// LangGraph.js: the same tool gated two ways. `gatedTool` for a ToolNode that waits in place;
// `interruptingTool` interrupts the graph (with a checkpointer) and `resumeWhenDecided` resumes
// it when countersign decides, also from another process after a restart.
//
//   npx tsx examples/langgraph.ts   (after `npm start`; plug in a chat model of yours)
import { tool } from '@langchain/core/tools';
import { MemorySaver, MessagesAnnotation, START, StateGraph, END } from '@langchain/langgraph';
import { ToolNode, toolsCondition } from '@langchain/langgraph/prebuilt';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import { Countersign } from '@countersign/sdk';
import { interruptingTool, resumeWhenDecided } from '@countersign/agents-langgraph';

const deleteEnvironment = tool(async ({ name }) => `deleted ${name}`, {
  name: 'delete_environment',
  description: 'Deletes an environment',
  schema: z.object({ name: z.string() }),
});

export function opsGraph(model: BaseChatModel, countersign: Countersign) {
  const gated = interruptingTool(countersign, deleteEnvironment, ({ name }) => ({
    action: { type: 'environment.delete', resource: String(name) },
    context: { environment: 'production' },
  }));
  const llm = model.bindTools!([gated]);
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state) => ({ messages: [await llm.invoke(state.messages)] }))
    .addNode('tools', new ToolNode([gated]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', toolsCondition, ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer: new MemorySaver() }); // a persistent checkpointer in production
}

/** Run until countersign is asked, then (here or in another process) resume once it decides. */
export async function deleteThroughGraph(model: BaseChatModel, countersign: Countersign, environment: string) {
  const graph = opsGraph(model, countersign);
  const config = { configurable: { thread_id: `delete-${environment}` } };
  await graph.invoke({ messages: [{ role: 'user', content: `Delete ${environment}` }] }, config);
  return resumeWhenDecided(graph, config, countersign);
}
