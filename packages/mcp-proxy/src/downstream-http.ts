import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ProxyLogger } from './logger.ts';
import { SessionRegistry } from './session-registry.ts';

export interface ListenOptions {
  host: string;
  port: number;
  /** Default "/mcp". */
  path?: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Most sessions at once (default 1000); at the bound the least recently active idle one is closed. */
  maxSessions?: number;
}

export interface HttpDownstream {
  url: string;
  close(): Promise<void>;
}

/** Hosts only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Beyond loopback, anyone who can reach the port would call tools as the proxy's agent (and
 * passthrough tools ungated): a token is required there, not optional.
 */
export function checkListen(opts: ListenOptions): void {
  if (!isLoopback(opts.host) && !opts.token) {
    throw new TypeError(`mcp-proxy: listening on ${opts.host} (beyond loopback) needs a token (COUNTERSIGN_MCP_PROXY_TOKEN): every client would otherwise act as the proxy's agent`);
  }
}

/**
 * Serves MCP over Streamable HTTP, one session (and one proxy Server) per client, as in the
 * SDK's simpleStreamableHttp example. Sessions matter here: a client's notifications/cancelled
 * arrives as its own POST and must reach the held call it cancels.
 */
export async function serveHttp(opts: ListenOptions, newServer: () => Server, logger: ProxyLogger): Promise<HttpDownstream> {
  checkListen(opts);
  const path = opts.path ?? '/mcp';
  const sessions = new SessionRegistry(opts.maxSessions ?? 1000);
  const loopback = isLoopback(opts.host);
  let allowedHosts: string[] = [];

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      logger.error({ err: err.message }, 'mcp-proxy: HTTP request failed');
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (pathnameOf(req.url) !== path) return jsonRpcError(res, 404, -32601, 'Not found');
    if (opts.token && !bearerMatches(req.headers.authorization, opts.token)) return jsonRpcError(res, 401, -32001, 'Unauthorized');
    const sessionId = header(req, 'mcp-session-id');
    const existing = sessionId ? sessions.get(sessionId) : undefined;
    if (existing) {
      const done = sessions.begin(sessionId!);
      res.once('close', done);
      return existing.handleRequest(req, res);
    }
    if (sessionId) return jsonRpcError(res, 404, -32001, 'Session not found');
    if (req.method !== 'POST') return jsonRpcError(res, 400, -32000, 'Bad Request: no session; POST an initialize request first');
    const read = await readJson(req);
    if (read.kind === 'too_large') {
      // The rest of the body is left unread: close the connection rather than reuse it.
      res.setHeader('connection', 'close');
      return jsonRpcError(res, 413, -32000, `Payload Too Large: a request body must not exceed ${MAX_BODY_BYTES} bytes`);
    }
    if (read.kind === 'invalid') return jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    const body = read.body;
    if (!isInitializeRequest(body)) return jsonRpcError(res, 400, -32000, 'Bad Request: no session; the first request must be initialize');
    if (!(await sessions.makeRoom())) {
      res.setHeader('retry-after', '5');
      return jsonRpcError(res, 503, -32000, 'Too many sessions, all busy: try again shortly');
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id): void => sessions.add(id, transport),
      ...(loopback ? { enableDnsRebindingProtection: true, allowedHosts } : {}),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await newServer().connect(transport);
    await transport.handleRequest(req, res, body);
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const hostPart = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  allowedHosts.push(`${hostPart}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`);
  allowedHosts = [...new Set(allowedHosts)];
  return {
    url: `http://${hostPart}:${port}${path}`,
    async close() {
      await Promise.all(sessions.transports().map((t) => t.close().catch(() => undefined)));
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerMatches(authorization: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** The same limit as the MCP SDK's transport applies to requests within a session. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

type ReadBody = { kind: 'json'; body: unknown } | { kind: 'too_large' } | { kind: 'invalid' };

async function readJson(req: http.IncomingMessage): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { kind: 'too_large' };
    chunks.push(chunk as Buffer);
  }
  try {
    return { kind: 'json', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { kind: 'invalid' };
  }
}

/** The request target's path, or undefined when it is not a URL (`//[`): that is a 404 like any other path. */
function pathnameOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://proxy').pathname;
  } catch {
    return undefined;
  }
}

function jsonRpcError(res: http.ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
