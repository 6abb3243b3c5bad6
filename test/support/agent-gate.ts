import { afterAll, beforeAll } from 'vitest';
import { Countersign } from '../../packages/sdk/src/index.ts';
import { startTestService, type TestService } from './service.ts';

// What every agent-framework adapter test needs: a real service for the file, an SDK client
// with the agent's key, and people voting through the API. Registers the file's hooks.

export interface AgentGate {
  readonly t: TestService;
  readonly cs: Countersign;
  vote(id: string, who: string, decision: 'approve' | 'deny', reason?: string): ReturnType<TestService['api']>;
}

export function useAgentGate(): AgentGate {
  let t: TestService | undefined;
  let cs: Countersign | undefined;
  beforeAll(async () => {
    t = await startTestService();
    cs = new Countersign({ baseUrl: t.url, apiKey: t.tokens['deploy-bot']! });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });
  return {
    get t() {
      return t!;
    },
    get cs() {
      return cs!;
    },
    vote: (id, who, decision, reason = 'checked') => t!.api('POST', `/v1/actions/${id}/votes`, { token: t!.tokens[who]!, body: { decision, reason } }),
  };
}
