import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import type { TestService } from '../../../test/support/service.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { currentRelease, gateTool } from '../src/index.ts';

// The real `ai` generateText loop with the SDK's own MockLanguageModelV3 (no network) and a
// real countersign service deciding.

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const callTool = (toolCallId: string, toolName: string, input: unknown): LanguageModelV3GenerateResult => ({
  content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage,
  warnings: [],
});
const say = (text: string): LanguageModelV3GenerateResult => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });
/** The tool-result outputs the model was shown on later steps. */
const shownToModel = (calls: LanguageModelV3CallOptions[]) =>
  calls.flatMap((c) => c.prompt).flatMap((m) => (m.role === 'tool' ? m.content : [])).map((part) => (part.type === 'tool-result' ? part.output : undefined));

const gate = useAgentGate();
let t: TestService;
let cs: Countersign;
beforeAll(() => {
  ({ t, cs } = gate);
});
const vote = gate.vote;

function setup(script: LanguageModelV3GenerateResult[]) {
  const deleted: { name: string; token: string | undefined }[] = [];
  let pending!: (action: Action) => void;
  const firstPending = new Promise<Action>((resolve) => (pending = resolve));
  const deleteEnvironment = gateTool(
    cs,
    tool({
      description: 'Deletes an environment',
      inputSchema: z.object({ name: z.string() }),
      execute: async ({ name }) => (deleted.push({ name, token: currentRelease()?.releaseToken }), `deleted ${name}`),
    }),
    ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } }),
    { onPending: (action) => pending(action) },
  );
  const model = new MockLanguageModelV3({ doGenerate: script });
  const generate = () => generateText({ model, tools: { delete_environment: deleteEnvironment }, prompt: 'Delete it', stopWhen: stepCountIs(3) });
  return { model, deleted, firstPending, generate };
}

describe('gateTool (Vercel AI SDK)', () => {
  it('execute runs only after two people approve, with the approved arguments and the release token', async () => {
    const s = setup([callTool('call-1', 'delete_environment', { name: 'env/ai-1' }), say('Deleted.')]);
    const generating = s.generate();
    const action = await s.firstPending;
    expect(s.deleted).toEqual([]);
    await vote(action.id, 'alice', 'approve');
    await vote(action.id, 'bob', 'approve');
    const result = await generating;
    expect(result.text).toBe('Deleted.');
    expect(s.deleted).toEqual([{ name: 'env/ai-1', token: expect.stringMatching(/^ey/) }]);
    expect(shownToModel(s.model.doGenerateCalls)).toEqual([{ type: 'text', value: 'deleted env/ai-1' }]);
  });

  it('a refusal is the tool’s result and reaches the model as execution-denied with the reason', async () => {
    const s = setup([callTool('call-2', 'delete_environment', { name: 'env/ai-2' }), say('Refused.')]);
    const generating = s.generate();
    const action = await s.firstPending;
    await vote(action.id, 'bob', 'deny', 'customers still on it');
    const result = await generating;
    expect(s.deleted).toEqual([]);
    expect(result.steps[0]!.toolResults[0]!.output).toMatchObject({ countersign: 'not-approved', status: 'refused', actionId: action.id });
    const [shown] = shownToModel(s.model.doGenerateCalls);
    expect(shown).toMatchObject({ type: 'execution-denied' });
    expect((shown as { reason: string }).reason).toContain(`countersign refused this call (action ${action.id})`);
    expect((shown as { reason: string }).reason).toContain('customers still on it');
  });

  it('countersign unreachable: not run, and the model is told', async () => {
    const down = new Countersign({ baseUrl: 'http://127.0.0.1:9', apiKey: 'cs_x', maxRetries: 0 });
    let ran = false;
    const gated = gateTool(down, tool({ inputSchema: z.object({}), execute: async () => ((ran = true), 'ran') }), () => ({ action: { type: 'environment.delete' } }));
    const model = new MockLanguageModelV3({ doGenerate: [callTool('call-3', 'gated', {}), say('ok')] });
    await generateText({ model, tools: { gated }, prompt: 'go', stopWhen: stepCountIs(3) });
    expect(ran).toBe(false);
    expect(shownToModel(model.doGenerateCalls)[0]).toMatchObject({ type: 'execution-denied', reason: expect.stringMatching(/could not decide/) });
  });
});
