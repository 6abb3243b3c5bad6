import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallToolResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../../../test/support/service.ts';
import { canonicalJson, intentHash, verifyRelease } from '../../src/countersign-sdk.ts';
import { describeCall, META_KEY } from '../../src/index.ts';
import { RELEASE_HEADER } from './environments-server.ts';
import { heldCall, settleWithin, httpHarness, stdioHarness, testMapping, textOf, type HarnessOptions, type ProxyHarness } from './harness.ts';

// The same end-to-end behaviour over both transports: the MCP SDK's Client, through the proxy,
// to a real MCP server, with a real countersign service deciding (test/fixtures/policy.yaml:
// reads are approved; a production environment.delete needs an sre-lead and a security person,
// two distinct people).

export function proxyScenarios(kind: 'stdio' | 'http'): void {
  const connect = (opts: HarnessOptions): Promise<ProxyHarness> => (kind === 'stdio' ? stdioHarness(opts) : httpHarness(opts));
  let t: TestService;
  let h: ProxyHarness;
  const vote = (id: string, who: string, decision: 'approve' | 'deny', reason = 'checked') =>
    t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who]!, body: { decision, reason } });
  /** The action once final, read as its requester (the proxy's key). */
  const finalAction = async (id: string) => {
    for (;;) {
      const res = await t.api('GET', `/v1/actions/${id}?wait=20`, { token: t.tokens['deploy-bot']! });
      if (res.body.status !== 'pending') return res.body;
    }
  };

  beforeAll(async () => {
    t = await startTestService();
    h = await connect({ countersignUrl: t.url, apiKey: t.tokens['deploy-bot']! });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    // Bounded like the harness' close (see there): the suite must end even if a stop lingers.
    await settleWithin(t?.stop() ?? Promise.resolve(), 20_000);
  }, 60_000);

  describe(`mcp-proxy over ${kind}`, () => {
    it('lists the upstream tools, annotated from the mapping', async () => {
      const { tools } = await h.client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['delete_environment', 'list_environments', 'rotate_keys']);
      expect(tools.find((tool) => tool.name === 'delete_environment')?.description).toBe('Deletes an environment\n\n(needs approval by an SRE lead and security)');
      expect(tools.find((tool) => tool.name === 'list_environments')?.description).toBe('Lists the environments');
    });

    it('passes resources and prompts through untouched', async () => {
      const resource = await h.client.readResource({ uri: 'environments://regions' });
      expect(resource.contents).toEqual([{ uri: 'environments://regions', text: 'eu-1, us-1' }]);
      const prompt = await h.client.getPrompt({ name: 'cleanup', arguments: { region: 'eu-1' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Plan the cleanup of eu-1' });
    });

    it('a mapped read is approved by policy and passes through', async () => {
      const before = h.calls().length;
      const result = await h.client.callTool({ name: 'list_environments', arguments: { region: 'eu' } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result as never)).toBe('env/prod-eu-1, env/staging-1');
      const call = h.calls()[before]!;
      expect(call).toMatchObject({ name: 'list_environments', argumentsJson: '{"region":"eu"}' });
      expect(typeof call.meta?.['io.countersign/release-token']).toBe('string');
    });

    it('holds a delete while two distinct people approve, then forwards exactly the approved arguments', async () => {
      const args = { reason: 'region decommissioned', name: 'env/prod-eu-1', environment: 'production', options: { zeta: [3, 1.5, 'x'], alpha: { force: true } } };
      const before = h.calls().length;
      const call = heldCall(h.client, 'delete_environment', args);
      const id = await call.actionId;
      expect(call.progress[0]).toMatch(/waiting for approval by 1 × sre-lead, 1 × security/);

      expect((await vote(id, 'alice', 'approve')).status).toBe(201);
      // One slot filled, one open: still held, nothing forwarded.
      expect((await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot']! })).body.status).toBe('pending');
      expect(h.calls().slice(before).filter((c) => c.name === 'delete_environment')).toEqual([]);
      // The same person cannot fill the second slot.
      expect((await vote(id, 'alice', 'approve')).status).toBeGreaterThanOrEqual(400);
      expect((await vote(id, 'bob', 'approve')).status).toBe(201);

      const result = await call.result;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe('deleted env/prod-eu-1');
      const action = await finalAction(id);
      expect(action.status).toBe('approved');

      const received = h.calls().slice(before).filter((c) => c.name === 'delete_environment');
      expect(received).toHaveLength(1);
      // Byte for byte: the arguments' JSON as the upstream received it is the canonical JSON of
      // the arguments that were hashed into the approved intent.
      expect(received[0]!.argumentsJson).toBe(canonicalJson(args));
      const forwarded = describeCall(testMapping().find('delete_environment')!, 'delete_environment', JSON.parse(received[0]!.argumentsJson));
      expect(intentHash(forwarded.intent)).toBe(action.intentHash);
      // The release token the upstream got is bound to that intent and this action.
      const token = received[0]!.meta?.['io.countersign/release-token'] as string;
      const claims = await verifyRelease(token, { jwksUrl: `${t.url}/.well-known/jwks.json`, audience: 'countersign-release', intent: forwarded.intent });
      expect(claims.actionId).toBe(id);
      if (kind === 'http') expect(received[0]!.releaseHeader).toBe(token);
    });

    it('an approver’s deny ends the call as a refusal with the reason and the action id', async () => {
      const before = h.calls().length;
      const call = heldCall(h.client, 'delete_environment', { name: 'env/prod-us-1', environment: 'production' });
      const id = await call.actionId;
      await vote(id, 'bob', 'deny', 'customers still on it');
      const result = await call.result;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`countersign refused this call (action ${id})`);
      expect(textOf(result)).toContain('customers still on it');
      expect(result._meta?.[META_KEY]).toEqual({ id, status: 'refused' });
      expect((await finalAction(id)).status).toBe('refused');
      expect(h.calls().slice(before)).toEqual([]);
    });

    it('a call no rule allows is refused at once, with the policy reason', async () => {
      const result = await h.client.callTool({ name: 'delete_environment', arguments: { name: 'env/dev-1', environment: 'development' } });
      expect(result.isError).toBe(true);
      expect(textOf(result as never)).toMatch(/countersign refused this call \(action act_[a-z0-9]+\)/);
    });

    it('expiry ends the call as expired, and the action is expired', async () => {
      const before = h.calls().length;
      const call = heldCall(h.client, 'delete_environment', { name: 'env/prod-ap-1', environment: 'production' });
      const id = await call.actionId;
      t.clock.advance(31 * 60_000);
      await t.service.gate.expireIfDue(id);
      const result = await call.result;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`Nobody approved this call before the request expired (action ${id})`);
      expect(result._meta?.[META_KEY]).toEqual({ id, status: 'expired' });
      expect((await finalAction(id)).status).toBe('expired');
      expect(h.calls().slice(before)).toEqual([]);
    });

    it('the client cancelling a held call withdraws the action; nothing is forwarded, even if approved later', async () => {
      const before = h.calls().length;
      const controller = new AbortController();
      const call = heldCall(h.client, 'delete_environment', { name: 'env/prod-sa-1', environment: 'production' }, controller.signal);
      const id = await call.actionId;
      controller.abort('the user changed their mind');
      await expect(call.result).rejects.toBeDefined();
      const action = await finalAction(id);
      expect(action.status).toBe('cancelled');
      expect(action.decisionReason).toMatch(/cancelled the tool call/);
      expect((await vote(id, 'alice', 'approve')).status).toBeGreaterThanOrEqual(400);
      expect(h.calls().slice(before)).toEqual([]);
    });

    it('an unmapped tool is refused and never reaches the upstream', async () => {
      const before = h.calls().length;
      const result = await h.client.callTool({ name: 'rotate_keys', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result as never)).toMatch(/"rotate_keys" is not mapped/);
      expect(h.calls().slice(before)).toEqual([]);
    });

    it('a malformed tools/call (arguments not an object, no name) is answered -32602 naming the field, and never forwarded', async () => {
      const before = h.calls().length;
      const bad = [
        { params: { name: 'delete_environment', arguments: 'environment=prod' }, field: /^MCP error -32602: tools\/call: params\.arguments must be an object/ },
        { params: { name: 'delete_environment', arguments: ['prod'] }, field: /^MCP error -32602: tools\/call: params\.arguments must be an object/ },
        { params: { name: 'delete_environment', arguments: null }, field: /params\.arguments must be an object/ },
        { params: { arguments: { environment: 'prod' } }, field: /^MCP error -32602: tools\/call: params\.name must be a string/ },
        { params: { name: 42, arguments: {} }, field: /params\.name must be a string/ },
      ];
      for (const { params, field } of bad) {
        const err = await h.client.request({ method: 'tools/call', params: params as never }, CallToolResultSchema).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(McpError);
        expect((err as McpError).code).toBe(ErrorCode.InvalidParams);
        expect((err as McpError).message).toMatch(field);
        // One line, naming the field: not the validator's dump of issues.
        expect((err as McpError).message).not.toMatch(/\n/);
      }
      // The session still works, and nothing reached the upstream.
      expect((await h.client.listTools()).tools.length).toBe(3);
      expect(h.calls().slice(before)).toEqual([]);
    });

    it('arguments the mapping cannot describe are refused (fail closed)', async () => {
      const result = await h.client.callTool({ name: 'delete_environment', arguments: { environment: 'production' } });
      expect(result.isError).toBe(true);
      expect(textOf(result as never)).toMatch(/could not be described as an action/);
    });
  });

  describe(`mcp-proxy over ${kind}, limits`, () => {
    it('after the maximum wait the action is withdrawn and the result says so', async () => {
      const limited = await connect({ countersignUrl: t.url, apiKey: t.tokens['deploy-bot']!, gate: { maxWait: '2s', progressEvery: '1s' } });
      try {
        const call = heldCall(limited.client, 'delete_environment', { name: 'env/prod-me-1', environment: 'production' });
        const id = await call.actionId;
        const result = await call.result;
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(new RegExp(`No decision within \\d+s, the longest this proxy waits; it withdrew the request \\(action ${id}\\)`));
        expect(result._meta?.[META_KEY]).toEqual({ id, status: 'cancelled' });
        const action = await finalAction(id);
        expect(action.status).toBe('cancelled');
        expect(action.decisionReason).toMatch(/maximum wait/);
        expect(limited.calls()).toEqual([]);
      } finally {
        await limited.close();
      }
    });

    it('countersign unreachable → refused with a clear error, never forwarded', async () => {
      const down = await connect({ countersignUrl: 'http://127.0.0.1:9', apiKey: t.tokens['deploy-bot']! });
      try {
        for (const name of ['list_environments', 'delete_environment']) {
          const result = await down.client.callTool({ name, arguments: { name: 'env/prod-eu-1', environment: 'production' } });
          expect(result.isError).toBe(true);
          expect(textOf(result as never)).toMatch(/countersign could not decide on this call \(.+\), so it was refused and not run/);
        }
        expect(down.calls()).toEqual([]);
      } finally {
        await down.close();
      }
    });

    it('countersign answering 5xx → refused, never forwarded', async () => {
      const failing = http.createServer((_req, res) => {
        res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Unavailable', status: 503, detail: 'database unavailable', code: 'unavailable' }));
      });
      await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
      const down = await connect({ countersignUrl: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`, apiKey: t.tokens['deploy-bot']! });
      try {
        const result = await down.client.callTool({ name: 'list_environments', arguments: {} });
        expect(result.isError).toBe(true);
        expect(textOf(result as never)).toMatch(/could not decide on this call \(503 unavailable: database unavailable\)/);
        expect(down.calls()).toEqual([]);
      } finally {
        await down.close();
        await new Promise<void>((resolve) => failing.close(() => resolve()));
      }
    });
  });
}

export { RELEASE_HEADER };
