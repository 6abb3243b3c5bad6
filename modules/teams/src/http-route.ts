import type { FastifyInstance } from 'fastify';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';

// POST /api/messages: the Bot Framework endpoint on the service's own port. Fastify has
// already parsed the JSON body; CloudAdapter.process takes Node-style request/response objects
// (method, headers, body / status, header, send, end), authenticates the request with the
// SDK (JWT) and runs the bot. The SDK's answer is relayed; failures become problem+json.

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
/**
 * A proxy or tunnel on the same machine (ngrok, a local nginx) makes a remote request look
 * local; these headers give it away, and development mode refuses such requests.
 */
const FORWARDED_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'] as const;

/** Development mode (no authentication): only a request straight from this machine. */
export function isDirectLocalRequest(remoteAddress: string | undefined, headers: Record<string, unknown>): boolean {
  if (!LOOPBACK.has(remoteAddress ?? '')) return false;
  return FORWARDED_HEADERS.every((h) => headers[h] === undefined);
}

/** What CloudAdapter.process writes to, captured so Fastify sends it. */
class CapturedResponse {
  statusCode = 200;
  body: unknown = undefined;
  readonly headers: Record<string, string> = {};
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  header(name: string, value: unknown): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }
  send(body?: unknown): this {
    this.body = body;
    return this;
  }
  end(): this {
    return this;
  }
}

function problem(status: number, code: string, title: string) {
  return { type: 'about:blank', title, status, code };
}

export function registerBotRoute(
  app: FastifyInstance,
  opts: { adapter: CloudAdapter; logic: (context: TurnContext) => Promise<void>; devMode: boolean; logger: Logger },
): void {
  app.post('/api/messages', async (request, reply) => {
    if (opts.devMode && !isDirectLocalRequest(request.socket.remoteAddress, request.headers)) {
      // Unauthenticated development mode must never be reachable from another machine.
      opts.logger.warn('Teams development mode refused a request that is not straight from this machine');
      return reply.code(403).type('application/problem+json').send(problem(403, 'forbidden', 'Teams development mode accepts direct local requests only (no proxies or tunnels)'));
    }
    const res = new CapturedResponse();
    await opts.adapter.process(
      { method: request.method, headers: request.headers as Record<string, string | string[] | undefined>, body: request.body as Record<string, unknown> },
      res as never,
      opts.logic,
    );
    if (res.statusCode === 401) {
      opts.logger.warn({ reason: typeof res.body === 'string' ? res.body.slice(0, 200) : undefined }, 'Teams request refused: Bot Framework authentication failed');
      return reply.code(401).type('application/problem+json').send(problem(401, 'unauthenticated', 'Bot Framework authentication failed'));
    }
    if (res.statusCode >= 500) {
      opts.logger.error({ status: res.statusCode, reason: typeof res.body === 'string' ? res.body.slice(0, 500) : undefined }, 'Teams request failed');
      return reply.code(res.statusCode).type('application/problem+json').send(problem(res.statusCode, 'internal', 'The Teams request could not be processed'));
    }
    reply.code(res.statusCode);
    if (res.body === undefined || res.body === null) return reply.send();
    return reply.send(res.body);
  });
}
