// A Vercel AI SDK tool that runs only once countersign approves the call; a refusal is the
// tool's result, which the model reads as `execution-denied` with the reason and the action id.
//
//   npx tsx examples/ai-sdk.ts env/prod-eu-1   (after `npm start`; give `model` a provider of yours)
import { generateText, stepCountIs, tool, type LanguageModel } from 'ai';
import { z } from 'zod';
import { Countersign } from '@countersign/sdk';
import { gateTool } from '@countersign/agents-ai-sdk';
import { apiKey, countersignUrl, isMain } from './demo-config.ts';

export function environmentTools(countersign: Countersign) {
  return {
    delete_environment: gateTool(
      countersign,
      tool({ description: 'Deletes an environment', inputSchema: z.object({ name: z.string() }), execute: async ({ name }) => `deleted ${name}` }),
      ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' }, risk: { class: 'destructive' } }),
    ),
  };
}

export async function deleteWithModel(model: LanguageModel, countersign: Countersign, environment: string): Promise<string> {
  const { text } = await generateText({ model, tools: environmentTools(countersign), prompt: `Delete ${environment}`, stopWhen: stepCountIs(3) });
  return text;
}

if (isMain(import.meta.url)) {
  const countersign = new Countersign({ baseUrl: countersignUrl(), apiKey: apiKey('COUNTERSIGN_API_KEY', 'deploy-bot') });
  // e.g. `openai('gpt-4.1')` from @ai-sdk/openai, or a gateway model id string.
  console.log(await deleteWithModel(process.env.AI_MODEL ?? 'openai/gpt-4.1', countersign, process.argv[2] ?? 'env/prod-eu-1'));
}
