import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
  ResultSchema,
  type CallToolResult,
  type ServerCapabilities,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Countersign } from './countersign-sdk.ts';
import { MappingEvaluationError } from './expression.ts';
import { gateCall } from './gate.ts';
import { describeCall } from './intent.ts';
import type { Mapping } from './load-mapping.ts';
import type { ProxyLogger } from './logger.ts';
import type { ReleaseHeader } from './release-header.ts';
import { heldMessage, mappingErrorResult, outcomeResult, unmappedResult } from './results.ts';
import type { Subscriptions } from './subscriptions.ts';
import { requestedLevel, SetLevelRequest } from './set-level-request.ts';
import { ToolsCallRequest } from './tool-call-request.ts';

export interface ProxyServerDeps {
  upstream: Client;
  mapping: Mapping;
  countersign: Countersign;
  /** Carries the release token as an HTTP header on the forwarded call (HTTP upstream only). */
  releaseHeader?: ReleaseHeader;
  logger: ProxyLogger;
  /** Timeout of a forwarded call (ms, reset by the upstream's progress). Default 60 000. */
  upstreamTimeoutMs?: number;
  /** Which session subscribed to which resource (sessions share the upstream's subscriptions). */
  subscriptions?: Subscriptions<Server>;
  /**
   * Whether the upstream's log messages reach this client: over stdio (the one client) they do;
   * over HTTP, where sessions share the upstream, they never do (see start.ts). Then the proxy
   * declares no logging and keeps `logging/setLevel` from the shared upstream: one session
   * would otherwise set the level for all.
   */
  relaysLogs?: boolean;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

// Everything other than tools goes to the upstream untouched. The proxy never sends sampling or
// elicitation requests to its client, and its own client to the upstream declares neither, so no
// approval can ever come from the model's side of the connection.
const PASSED_THROUGH = /^(resources|prompts|completion|logging)\//;

/** One MCP server facing one client (a stdio peer or one Streamable HTTP session). */
export function createProxyServer(deps: ProxyServerDeps): Server {
  const upstreamInfo = deps.upstream.getServerVersion();
  const capabilities = mirroredCapabilities(deps.upstream.getServerCapabilities(), deps.relaysLogs ?? true);
  const server = new Server(
    { name: `countersign-mcp-proxy(${upstreamInfo?.name ?? 'upstream'})`, version: upstreamInfo?.version ?? '0.0.0' },
    { capabilities, instructions: deps.upstream.getInstructions() },
  );

  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const listed = await deps.upstream.request({ method: 'tools/list', params: request.params }, ListToolsResultSchema, { signal: extra.signal });
    return {
      ...listed,
      tools: listed.tools.map((tool) => {
        const note = deps.mapping.find(tool.name)?.annotate;
        return note ? { ...tool, description: tool.description ? `${tool.description}\n\n(${note})` : `(${note})` } : tool;
      }),
    };
  });

  // Registered with our own schema (tool-call-request.ts): a malformed call is answered -32602
  // naming the field, not -32603. The handler reads the call as the SDK's check accepted it.
  server.setRequestHandler(ToolsCallRequest, (request, extra) => callTool(deps, CallToolRequestSchema.parse(request).params, extra));

  // Over stdio the upstream's log messages go to the one client, so its level is the client's
  // to set: forwarded (replacing the SDK's handler, which only kept it). Over HTTP, see relaysLogs.
  if (capabilities.logging) {
    server.setRequestHandler(SetLevelRequest, async (request, extra) => {
      await deps.upstream.setLoggingLevel(requestedLevel(request), { signal: extra.signal });
      return {};
    });
  }

  server.fallbackRequestHandler = async (request, extra) => {
    if (!PASSED_THROUGH.test(request.method) || (deps.relaysLogs === false && request.method.startsWith('logging/'))) {
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
    const uri = (request.params as { uri?: unknown } | undefined)?.uri;
    // Another session may still hold this subscription upstream: only the last one ends it.
    if (request.method === 'resources/unsubscribe' && typeof uri === 'string' && deps.subscriptions && !deps.subscriptions.unsubscribe(server, uri)) return {};
    const result = await deps.upstream.request({ method: request.method, params: request.params } as never, ResultSchema, { signal: extra.signal });
    if (request.method === 'resources/subscribe' && typeof uri === 'string') deps.subscriptions?.subscribe(server, uri);
    return result;
  };
  return server;
}

async function callTool(deps: ProxyServerDeps, params: { name: string; arguments?: Record<string, unknown> }, extra: Extra): Promise<CallToolResult> {
  const { name } = params;
  const args = params.arguments ?? {};
  const tool = deps.mapping.find(name);
  const progress = progressReporter(extra);
  if (!tool) {
    deps.logger.warn({ tool: shownName(name) }, 'mcp-proxy: unmapped tool refused');
    return unmappedResult(shownName(name));
  }
  if (tool.passthrough) return forward(deps, name, args, undefined, extra, progress);

  let described;
  try {
    described = describeCall(tool, name, args);
  } catch (err) {
    if (!(err instanceof MappingEvaluationError)) throw err;
    deps.logger.warn({ tool: shownName(name), err: err.message }, 'mcp-proxy: mapping could not describe the call');
    return mappingErrorResult(shownName(name), err.message);
  }

  const outcome = await gateCall(deps.countersign, described, {
    signal: extra.signal,
    maxWaitSeconds: deps.mapping.gate.maxWait,
    progressEverySeconds: deps.mapping.gate.progressEvery,
    onHeld: (action) => progress.send(heldMessage(action)),
  });
  const actionId = 'action' in outcome && outcome.action ? outcome.action.id : 'actionId' in outcome ? outcome.actionId : undefined;
  deps.logger.info({ tool: shownName(name), actionId, outcome: outcome.kind }, 'mcp-proxy: gate decided');
  if (outcome.kind !== 'approved') return outcomeResult(outcome);
  // A client that cancelled while we waited gets nothing forwarded, even when approved just now.
  if (extra.signal.aborted) return outcomeResult({ kind: 'client-cancelled', actionId: outcome.action.id, withdrawn: false });
  // `described.params` is the frozen object the hash was computed over: exactly what was approved.
  return forward(deps, name, described.params, outcome.releaseToken, extra, progress);
}

async function forward(
  deps: ProxyServerDeps,
  name: string,
  args: Readonly<Record<string, unknown>>,
  releaseToken: string | undefined,
  extra: Extra,
  progress: ProgressReporter,
): Promise<CallToolResult> {
  const metaKey = deps.mapping.gate.release.meta;
  const call = {
    name,
    arguments: args as Record<string, unknown>,
    ...(releaseToken && metaKey ? { _meta: { [metaKey]: releaseToken } } : {}),
  };
  const send = () =>
    deps.upstream.request({ method: 'tools/call', params: call }, CallToolResultSchema, {
      signal: extra.signal,
      timeout: deps.upstreamTimeoutMs ?? 60_000,
      resetTimeoutOnProgress: true,
      onprogress: (p) => progress.relay(p.progress, p.total, p.message),
    });
  const result = releaseToken && deps.releaseHeader ? await deps.releaseHeader.run(releaseToken, send) : await send();
  return result as CallToolResult;
}

/** MCP tool names are at most 128 characters: a longer one, the client's text, is cut short where it is logged or echoed. */
function shownName(name: string): string {
  return name.length <= 128 ? name : `${name.slice(0, 128)}… (${name.length} characters)`;
}

interface ProgressReporter {
  send(message: string): Promise<void>;
  relay(progress: number, total: number | undefined, message: string | undefined): void;
}

/** notifications/progress for the client's token, if it gave one; values only ever increase. */
function progressReporter(extra: Extra): ProgressReporter {
  const token = extra._meta?.progressToken;
  let base = 0;
  let last = 0;
  const notify = async (progress: number, message: string | undefined, total?: number) => {
    if (token === undefined || progress <= last) return;
    last = progress;
    await extra.sendNotification({
      method: 'notifications/progress',
      params: { progressToken: token, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
    });
  };
  return {
    async send(message) {
      base = last + 1;
      await notify(base, message);
    },
    relay(progress, total, message) {
      // The upstream counts from its own zero: shift it past what we already reported.
      void notify(base + progress, message, total === undefined ? undefined : base + total).catch(() => undefined);
    },
  };
}

function mirroredCapabilities(upstream: ServerCapabilities | undefined, relaysLogs: boolean): ServerCapabilities {
  const caps: ServerCapabilities = { tools: { ...(upstream?.tools ?? {}) } };
  if (upstream?.resources) caps.resources = upstream.resources;
  if (upstream?.prompts) caps.prompts = upstream.prompts;
  if (upstream?.logging && relaysLogs) caps.logging = upstream.logging;
  if (upstream?.completions) caps.completions = upstream.completions;
  return caps;
}
