import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { Countersign } from './countersign-sdk.ts';
import { checkListen, serveHttp, type ListenOptions } from './downstream-http.ts';
import type { Mapping } from './load-mapping.ts';
import { silentLogger, type ProxyLogger } from './logger.ts';
import { createProxyServer } from './proxy-server.ts';
import { wellFormedMessages } from './stdio-messages.ts';
import { Subscriptions } from './subscriptions.ts';
import { connectUpstream, type UpstreamTarget } from './upstream.ts';

export interface McpProxyOptions {
  mapping: Mapping;
  /** Where countersign is and the proxy's own API key (the proxy is an agent). */
  countersign: { url: string; apiKey: string; timeoutMs?: number; maxRetries?: number };
  upstream: UpstreamTarget;
  /** Serve clients over Streamable HTTP; otherwise over this process's stdin/stdout. */
  listen?: ListenOptions;
  logger?: ProxyLogger;
  /** Timeout of a forwarded call (ms, reset by the upstream's progress). */
  upstreamTimeoutMs?: number;
}

export interface RunningProxy {
  /** The Streamable HTTP endpoint, when listening. */
  url: string | undefined;
  /** Resolves when the proxy stopped (its client or its upstream went away, or close()). */
  closed: Promise<void>;
  close(): Promise<void>;
}

// Notifications the upstream may send that mean the same to every client.
const BROADCAST = new Set([
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
  'notifications/prompts/list_changed',
  'notifications/message',
]);

export async function startMcpProxy(opts: McpProxyOptions): Promise<RunningProxy> {
  const logger = opts.logger ?? silentLogger;
  if (opts.listen) checkListen(opts.listen);
  const countersign = new Countersign({
    baseUrl: opts.countersign.url,
    apiKey: opts.countersign.apiKey,
    // A gate that does not answer soon is treated as down: the call is refused, not held open.
    timeoutMs: opts.countersign.timeoutMs ?? 10_000,
    maxRetries: opts.countersign.maxRetries ?? 2,
    backoff: { baseMs: 200, maxMs: 2_000 },
  });
  const upstream = await connectUpstream(opts.upstream, {
    name: 'countersign-mcp-proxy',
    version: '0.1.0',
    ...(opts.mapping.gate.release.header ? { releaseHeader: opts.mapping.gate.release.header } : {}),
  });

  const servers = new Set<Server>();
  const subscriptions = new Subscriptions<Server>();
  const newServer = () => {
    const server = createProxyServer({
      upstream: upstream.client,
      mapping: opts.mapping,
      countersign,
      logger,
      ...(upstream.releaseHeader ? { releaseHeader: upstream.releaseHeader } : {}),
      ...(opts.upstreamTimeoutMs ? { upstreamTimeoutMs: opts.upstreamTimeoutMs } : {}),
      subscriptions,
      relaysLogs: !opts.listen,
    });
    servers.add(server);
    server.onclose = () => {
      servers.delete(server);
      subscriptions.drop(server);
    };
    return server;
  };
  upstream.client.fallbackNotificationHandler = async (notification) => {
    if (!BROADCAST.has(notification.method)) return;
    // Over HTTP every session shares this one upstream connection, and a log message cannot be
    // told apart by the call it is about: relayed to all, one client's arguments and results
    // would reach every other client. Only the stdio peer (the one client) gets them.
    if (opts.listen && notification.method === 'notifications/message') return;
    // An update is for the sessions that subscribed to that resource, not for every client.
    const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
    const to = notification.method === 'notifications/resources/updated' ? (typeof uri === 'string' ? subscriptions.holders(uri) : []) : [...servers];
    for (const server of to) await server.notification(notification as ServerNotification).catch(() => undefined);
  };

  let stopped = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopDownstream: () => Promise<void> = async () => undefined;
  const close = async () => {
    if (stopped) return;
    stopped = true;
    await stopDownstream().catch(() => undefined);
    await upstream.close().catch(() => undefined);
    resolveClosed();
  };
  upstream.client.onclose = () => {
    if (!stopped) logger.warn({}, 'mcp-proxy: the upstream server went away; stopping');
    void close();
  };

  let url: string | undefined;
  if (opts.listen) {
    const http = await serveHttp(opts.listen, newServer, logger).catch(async (err: unknown) => {
      // The port is taken (or the like): stop the upstream started above, then say why.
      await close();
      throw err;
    });
    url = http.url;
    stopDownstream = http.close;
  } else {
    const server = newServer();
    // Lines the SDK would drop unanswered are answered here, and never reach it.
    const stdin = wellFormedMessages(process.stdin, (message) => transport.send(message), logger);
    const transport: StdioServerTransport = new StdioServerTransport(stdin.messages);
    const onEnd = () => void close();
    process.stdin.once('end', onEnd);
    transport.onclose = onEnd;
    await server.connect(transport);
    stopDownstream = async () => {
      process.stdin.off('end', onEnd);
      try {
        await server.close();
      } finally {
        stdin.stop();
      }
    };
  }
  return { url, closed, close };
}
