import { parse as parseQuery } from 'node:querystring';
import { ReceiverMultipleAckError, verifySlackRequest, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DomainError, type FieldIssue } from '@countersign/contracts';
import { interactionProblem, mayReachListeners } from './interactions.ts';
import { SLACK_EVENTS_PATH } from './paths.ts';

// Bolt, mounted on the service's own Fastify server (same port as the API): a custom Receiver.
// Signature checks need the exact bytes Slack signed, so the route lives in its own plugin
// scope whose parsers hand it the raw body; the rest of the API keeps its JSON-only parsers.

/** Slack waits 3 s for the HTTP answer; the answer is sent at ack(), work goes on after it. */
const ACK_TIMEOUT_MS = 3000;
/** Slack's replay window (Bolt enforces the past side; the future side is checked here). */
const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
/** Block actions carry the whole clicked message; cards stay far below this. */
const BODY_LIMIT_BYTES = 1024 * 1024;

export interface FastifyReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Wall clock for the replay window (tests never move it: Slack signs with real time). */
  nowMs?: () => number;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function mediaType(request: FastifyRequest): string {
  return (header(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A signed body that is not what Slack sends us: answered 400 (problem+json), never handed to Bolt. */
class BadPayload extends Error {
  constructor(readonly issue: FieldIssue) {
    super(issue.message);
  }
}

/**
 * Slack's two body encodings: interactivity is a form with one JSON `payload` (an interaction
 * whose shape interactions.ts checks); events are JSON (checked the same way if they look like
 * an interaction Bolt would dispatch). The one form without a payload Slack sends us is its SSL check.
 */
function parseBody(raw: string, type: string): Record<string, unknown> {
  let parsed: unknown;
  let interaction = false;
  if (type === 'application/x-www-form-urlencoded') {
    const form = parseQuery(raw);
    if (Array.isArray(form.payload)) throw new BadPayload({ field: 'payload', message: 'must be sent once' });
    if (typeof form.payload === 'string') {
      parsed = JSON.parse(form.payload);
      interaction = true;
    } else if (form.ssl_check !== undefined) parsed = form;
    else throw new BadPayload({ field: 'payload', message: 'is missing' });
  } else {
    parsed = JSON.parse(raw);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
  const body = parsed as Record<string, unknown>;
  // A JSON body Bolt would take for a click or a modal submission gets the same check.
  const problem = interaction || mayReachListeners(body) ? interactionProblem(body) : null;
  if (problem) throw new BadPayload(problem);
  return body;
}

export class FastifyReceiver implements Receiver {
  private bolt: App | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly nowMs: () => number;

  constructor(private readonly opts: FastifyReceiverOptions) {
    this.nowMs = opts.nowMs ?? Date.now;
  }

  init(app: App): void {
    this.bolt = app;
  }

  /** The Fastify server is started by the service; nothing to listen on here. */
  async start(): Promise<void> {}

  /** Lets work that continues after an ack (votes, card updates) finish before shutdown. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Registers POST /slack/events in its own scope (own body parsers, own body limit). */
  async register(app: FastifyInstance): Promise<void> {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(['application/x-www-form-urlencoded', 'application/json'], { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) =>
        done(null, body),
      );
      scope.post(SLACK_EVENTS_PATH, { bodyLimit: BODY_LIMIT_BYTES }, (request, reply) => this.handle(request, reply));
    });
  }

  private verify(request: FastifyRequest, raw: string): void {
    const signature = header(request, 'x-slack-signature');
    const timestamp = Number(header(request, 'x-slack-request-timestamp'));
    try {
      if (!signature || !Number.isInteger(timestamp)) throw new Error('missing signature headers');
      // Bolt's own check: HMAC-SHA256 over v0:timestamp:body, constant-time compare, and
      // refusal of timestamps older than five minutes.
      verifySlackRequest({
        signingSecret: this.opts.signingSecret,
        body: raw,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
        nowMilliseconds: this.nowMs(),
      });
      if (timestamp > Math.floor(this.nowMs() / 1000) + MAX_CLOCK_SKEW_SECONDS) throw new Error('timestamp is in the future');
    } catch (err) {
      this.opts.logger.warn({ reason: (err as Error).message }, 'Slack request refused: signature not verified');
      throw new DomainError('unauthenticated', 'The Slack request signature could not be verified.');
    }
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const rawBody = request.body;
    if (!Buffer.isBuffer(rawBody)) throw new DomainError('unauthenticated', 'The Slack request signature could not be verified.');
    const raw = rawBody.toString('utf8');
    this.verify(request, raw);

    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, mediaType(request));
    } catch (err) {
      if (err instanceof BadPayload) {
        this.opts.logger.warn({ field: err.issue.field, problem: err.issue.message }, 'Slack request refused: malformed interaction payload');
        throw new DomainError('invalid_request', 'The Slack interaction payload is malformed.', { issues: [err.issue] });
      }
      throw new DomainError('invalid_request', 'The Slack request body could not be parsed.');
    }
    if (body.type === 'url_verification') return { challenge: body.challenge };
    if (body.ssl_check !== undefined) return reply.code(200).send();

    const bolt = this.bolt;
    if (!bolt) throw new Error('the Slack receiver was not initialised by Bolt');

    let acked = false;
    let answer!: (response: { body: unknown } | 'unhandled') => void;
    const answered = new Promise<{ body: unknown } | 'unhandled'>((resolve) => (answer = resolve));
    const retryNum = Number(header(request, 'x-slack-retry-num'));
    const retryReason = header(request, 'x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      ...(Number.isInteger(retryNum) ? { retryNum } : {}),
      ...(retryReason ? { retryReason } : {}),
      ack: async (response?: unknown) => {
        if (acked) throw new ReceiverMultipleAckError();
        acked = true;
        answer({ body: response });
      },
    };
    const processing = bolt
      .processEvent(event)
      .catch((err: unknown) => this.opts.logger.error({ err: (err as Error).message }, 'Slack listener failed'))
      // No listener acknowledged it (an interaction that is not ours): answer now, not in 3 s.
      .finally(() => answer('unhandled'));
    this.inFlight.add(processing);
    void processing.finally(() => this.inFlight.delete(processing));

    const timer = setTimeout(() => answer('unhandled'), ACK_TIMEOUT_MS);
    const outcome = await answered;
    clearTimeout(timer);
    if (outcome === 'unhandled') {
      if (!acked) this.opts.logger.warn({ type: body.type }, 'Slack request not acknowledged by any listener');
      return reply.code(404).send();
    }
    if (outcome.body === undefined || outcome.body === '') return reply.code(200).send();
    if (typeof outcome.body === 'string') return reply.code(200).type('text/plain').send(outcome.body);
    return reply.code(200).type('application/json').send(JSON.stringify(outcome.body));
  }
}
