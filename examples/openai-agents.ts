// An OpenAI Agents SDK agent whose `delete_environment` tool countersign must approve: the run
// stops on the SDK's interruption, countersign asks the right people, and the run resumes with
// their decision (a refusal reaches the model as the rejected call's output).
//
//   OPENAI_API_KEY=… npx tsx examples/openai-agents.ts env/prod-eu-1   (after `npm start`)
import { Agent } from '@openai/agents';
import { z } from 'zod';
import { Countersign } from '@countersign/sdk';
import { CountersignApprovals } from '@countersign/agents-openai';
import { apiKey, countersignUrl, isMain } from './demo-config.ts';

export function opsAgent(countersign: Countersign) {
  // The five lines: a client, the approvals, a gated tool, an agent, a run (below).
  const approvals = new CountersignApprovals(countersign, { onPending: (a) => console.log(`waiting for people: ${a.id}`) });
  const deleteEnvironment = approvals.tool({
    name: 'delete_environment',
    description: 'Deletes an environment',
    parameters: z.object({ name: z.string() }),
    execute: async ({ name }) => `deleted ${name}`,
    intent: ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' }, risk: { class: 'destructive' } }),
  });
  const agent = new Agent({ name: 'ops', instructions: 'You run infrastructure operations.', tools: [deleteEnvironment] });
  return { approvals, agent };
}

if (isMain(import.meta.url)) {
  const { approvals, agent } = opsAgent(new Countersign({ baseUrl: countersignUrl(), apiKey: apiKey('COUNTERSIGN_API_KEY', 'deploy-bot') }));
  const result = await approvals.run(agent, `Delete the environment ${process.argv[2] ?? 'env/prod-eu-1'}`);
  console.log(result.finalOutput);
}
