import type { FastifyInstance } from 'fastify';
import type { CloudAdapter, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { DomainError } from '@countersign/contracts';
import { IDENTITY_UNAVAILABLE } from './auth.ts';

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

export function registerBotRoute(
  app: FastifyInstance,
  opts: { adapter: CloudAdapter; logic: (context: TurnContext) => Promise<void>; devMode: boolean; logger: Logger },
): void {
  app.post('/api/messages', async (request, reply) => {
    if (opts.devMode && !isDirectLocalRequest(request.socket.remoteAddress, request.headers)) {
      // Unauthenticated development mode must never be reachable from another machine.
      opts.logger.warn('Teams development mode refused a request that is not straight from this machine');
      throw new DomainError('forbidden', 'Teams development mode accepts direct local requests only (no proxies or tunnels).');
    }
    const res = new CapturedResponse();
    try {
      await opts.adapter.process(
        { method: request.method, headers: request.headers as Record<string, string | string[] | undefined>, body: request.body as Record<string, unknown> },
        res as never,
        opts.logic,
      );
    } catch (err) {
      // process() throws only while reading the activity, before authenticating it (the bot's
      // own failures are caught inside and answered with a status): the body is not an activity.
      opts.logger.info({ err: err instanceof Error ? err.message.slice(0, 200) : String(err) }, 'Teams request refused: not a Bot Framework activity');
      throw new DomainError('invalid_request', 'The body is not a valid Bot Framework activity.');
    }
    // Failures leave as problem+json through the service's one error handler (thrown
    // DomainErrors), never as the SDK's plain-text bodies.
    const reason = typeof res.body === 'string' ? res.body.slice(0, 500) : undefined;
    if (res.statusCode >= 500 && reason?.startsWith(IDENTITY_UNAVAILABLE)) {
      opts.logger.warn({ reason }, 'Teams request refused for now: Bot Framework identity metadata could not be fetched');
      throw new DomainError('unavailable', 'Bot Framework identity metadata could not be fetched; retry later.');
    }
    if (res.statusCode === 401) {
      opts.logger.warn({ reason: reason?.slice(0, 200) }, 'Teams request refused: Bot Framework authentication failed');
      throw new DomainError('unauthenticated', 'Bot Framework authentication failed.');
    }
    if (res.statusCode >= 500) {
      opts.logger.error({ status: res.statusCode, reason }, 'Teams request failed');
      throw new DomainError('internal', 'The Teams request could not be processed.');
    }
    // An invoke response (a card action's answer, e.g. application/vnd.microsoft.error with
    // 403) is the bot's own reply to Teams: relayed as it is. Only the SDK's bare refusals
    // (no body, or its plain-text reason) become problem documents.
    const invokeReply = typeof res.body === 'object' && res.body !== null;
    if (res.statusCode >= 400 && !invokeReply) {
      opts.logger.info({ status: res.statusCode, reason: reason?.slice(0, 200) }, 'Teams request refused by the Bot Framework SDK');
      throw new DomainError('invalid_request', 'The Bot Framework activity is not valid.');
    }
    reply.code(res.statusCode);
    if (res.body === undefined || res.body === null) return reply.send();
    return reply.send(res.body);
  });
}
