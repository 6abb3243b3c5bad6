import { randomUUID } from 'node:crypto';
import { Usage, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';

// The model side of the adapter's tests: the real @openai/agents run loop, with a model that
// answers from a script (no network) and records what it was asked.

/** What the provider gives each response as its id: a unique one (as most do), none, or always the same (a proxy, the SDK's 'FAKE_ID'). */
export type ResponseIds = 'unique' | 'none' | 'constant';

export class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  constructor(
    private readonly script: ModelResponse['output'][],
    private readonly responseIds: ResponseIds = 'unique',
  ) {}
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const output = this.script.shift();
    if (!output) throw new Error('the script ran out');
    const responseId = { unique: `resp_${randomUUID()}`, none: undefined, constant: 'FAKE_ID' }[this.responseIds];
    return { output, usage: new Usage(), ...(responseId ? { responseId } : {}) };
  }
  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not scripted');
  }
}

/** The model calls a tool. */
export const callTool = (callId: string, name: string, args: unknown): ModelResponse['output'] => [
  { type: 'function_call', id: `fc_${callId}`, callId, name, status: 'completed', arguments: JSON.stringify(args) },
];

/** The model answers in words. */
export const say = (text: string): ModelResponse['output'] => [
  { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] },
];
