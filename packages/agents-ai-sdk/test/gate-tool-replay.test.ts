import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import type { LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type Action } from '../src/countersign-sdk.ts';
import { gateTool } from '../src/index.ts';

// Tool call ids come from the model provider; some reuse them across conversations (call_0,
// call_1, …). One approval releases one execution: a later call with the same id and the same
// arguments must be asked about again, not run under the earlier approval.

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const callTool = (toolCallId: string, input: unknown): LanguageModelV3GenerateResult => ({
  content: [{ type: 'tool-call', toolCallId, toolName: 'delete_environment', input: JSON.stringify(input) }],
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage,
  warnings: [],
});
const say = (text: string): LanguageModelV3GenerateResult => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });

const gate = useAgentGate();
let cs: Countersign;
beforeAll(() => {
  ({ cs } = gate);
});

describe('gateTool and reused tool call ids', () => {
  it('a second conversation with the same tool call id and arguments is held for its own approval', async () => {
    const deleted: string[] = [];
    const pending: Action[] = [];
    let wake: (() => void) | undefined;
    const nextPending = async (count: number) => {
      while (pending.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return pending[count - 1]!;
    };
    const deleteEnvironment = gateTool(
      cs,
      tool({ description: 'Deletes an environment', inputSchema: z.object({ name: z.string() }), execute: async ({ name }) => (deleted.push(name), `deleted ${name}`) }),
      ({ name }) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } }),
      { onPending: (action) => (pending.push(action), wake?.()) },
    );
    const conversation = () =>
      generateText({ model: new MockLanguageModelV3({ doGenerate: [callTool('call_0', { name: 'env/ai-replay' }), say('Done.')] }), tools: { delete_environment: deleteEnvironment }, prompt: 'Delete it', stopWhen: stepCountIs(3) });

    const first = conversation();
    const a = await nextPending(1);
    await gate.vote(a.id, 'alice', 'approve');
    await gate.vote(a.id, 'bob', 'approve');
    await first;
    expect(deleted).toEqual(['env/ai-replay']);

    const second = conversation();
    expect(await Promise.race([second.then(() => 'ran under the first approval'), nextPending(2).then(() => 'held')])).toBe('held');
    const b = await nextPending(2);
    expect(b.id).not.toBe(a.id);
    await gate.vote(b.id, 'bob', 'deny', 'once is enough');
    const result = await second;
    expect(result.steps[0]!.toolResults[0]!.output).toMatchObject({ countersign: 'not-approved', status: 'refused', actionId: b.id });
    expect(deleted).toEqual(['env/ai-replay']);
  });
});
