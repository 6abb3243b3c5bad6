import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../../test/support/service.ts';
import { heldCall, settleWithin, stdioHarness } from './support/harness.ts';

// The MCP client goes away (the user quits the app) while a call is held for approval: the
// proxy process ends with it, and the action it was waiting on must be withdrawn first, not
// left for people to approve a call that will never run.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
}, 120_000);
afterAll(async () => {
  await settleWithin(t?.stop() ?? Promise.resolve(), 20_000);
}, 60_000);

it('the stdio client disconnecting while a call is held withdraws the action before the proxy exits', async () => {
  const h = await stdioHarness({ countersignUrl: t.url, apiKey: t.tokens['deploy-bot']! });
  const call = heldCall(h.client, 'delete_environment', { name: 'env/prod-gone-1', environment: 'production' });
  void call.result.catch(() => undefined);
  const id = await call.actionId;
  expect(h.calls()).toEqual([]);
  await h.close(); // closes stdin; the proxy process ends
  let action: { status: string; decisionReason?: string };
  do {
    action = (await t.api('GET', `/v1/actions/${id}?wait=20`, { token: t.tokens['deploy-bot']! })).body;
  } while (action.status === 'pending');
  expect(action.status).toBe('cancelled');
}, 60_000);
