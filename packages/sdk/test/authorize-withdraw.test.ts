import { beforeAll, describe, expect, it } from 'vitest';
import { useAgentGate } from '../../../test/support/agent-gate.ts';
import { Countersign, type FetchLike } from '../src/index.ts';

// authorize() withdraws what nobody waits for any more: an action whose submission was cut
// short by the caller's abort (the server may have created it: the caller never learnt its id),
// and an action whose wait ended on an error rather than a decision.

const gate = useAgentGate();
let baseUrl: string;
let agentKey: string;
beforeAll(() => {
  baseUrl = gate.t.url;
  agentKey = gate.t.tokens['deploy-bot']!;
});

const deletion = (name: string) => ({ action: { type: 'environment.delete', resource: name }, context: { environment: 'production' } });

/** The bot's actions on this resource, as the server has them. */
async function actionsOn(resource: string): Promise<{ id: string; status: string }[]> {
  const res = await gate.t.api('GET', '/v1/actions?limit=100', { token: agentKey });
  const items = res.body.items as { id: string; status: string }[];
  const mine: { id: string; status: string }[] = [];
  for (const item of items) {
    const full = await gate.t.api('GET', `/v1/actions/${item.id}`, { token: agentKey });
    if (full.body.normalizedIntent?.action?.resource === resource) mine.push({ id: item.id, status: full.body.status });
  }
  return mine;
}

describe('authorize withdraws what nobody waits for', () => {
  it('aborted while the submission was in flight: the action the server created is withdrawn', async () => {
    const controller = new AbortController();
    // The request reaches the server and the action is created; the abort lands before the
    // answer does, so the client never sees the action's id.
    const fetchCutShort: FetchLike = async (url, init) => {
      if (init.method === 'POST' && url.endsWith('/v1/actions') && !controller.signal.aborted) {
        await fetch(url, { ...init, signal: undefined }).then((r) => r.text());
        controller.abort(new Error('the user stopped the agent'));
        throw controller.signal.reason;
      }
      return fetch(url, init);
    };
    const cs = new Countersign({ baseUrl, apiKey: agentKey, fetch: fetchCutShort });
    await expect(cs.authorize(deletion('env/prod-abort-1'), { signal: controller.signal })).rejects.toThrow('the user stopped the agent');
    const actions = await actionsOn('env/prod-abort-1');
    expect(actions).toHaveLength(1);
    expect(actions[0]!.status).toBe('cancelled');
  });

  it('a signal aborted before anything was sent creates nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped before it began'));
    const cs = new Countersign({ baseUrl, apiKey: agentKey });
    await expect(cs.authorize(deletion('env/prod-abort-2'), { signal: controller.signal })).rejects.toThrow('stopped before it began');
    expect(await actionsOn('env/prod-abort-2')).toEqual([]);
  });

  it('a wait that ends on an error, not a decision, withdraws the pending action', async () => {
    // The long-poll answers something that is not JSON (a proxy's page with a 200).
    const brokenReads: FetchLike = async (url, init) => {
      if (init.method === 'GET' && url.includes('?wait=')) return new Response('<html>maintenance</html>', { status: 200 });
      return fetch(url, init);
    };
    const cs = new Countersign({ baseUrl, apiKey: agentKey, fetch: brokenReads });
    await expect(cs.authorize(deletion('env/prod-abort-3'))).rejects.toThrow();
    const actions = await actionsOn('env/prod-abort-3');
    expect(actions).toHaveLength(1);
    expect(actions[0]!.status).toBe('cancelled');
  });
});
