import { SocketModeReceiver, type App, type ReceiverEvent } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import type { FieldIssue } from '@countersign/contracts';
import { interactionProblem, mayReachListeners } from './interactions.ts';
import { slackLogger } from './slack-logger.ts';

// Socket Mode: for installs with no public ingress, the service opens a WebSocket to Slack
// (apps.connections.open with the app-level token) and Slack sends clicks and modal
// submissions over it instead of POSTing them to /slack/events. Bolt's own SocketModeReceiver
// does the protocol (hello, envelopes, acks, pings, reconnects); the same listeners run as
// over HTTP. Nothing is signed here: the connection itself, opened with our app token over
// TLS, is what vouches that the envelopes come from Slack. Payloads get the shape check that
// signed HTTP payloads get (interactions.ts): a malformed one is acked, so Slack does not send
// it again, logged without its content, and never handed to Bolt.

/** How long start() waits for the first connection before letting it continue in the background. */
const FIRST_CONNECT_WAIT_MS = 10_000;
/** Platform errors that no retry fixes: the app token is wrong, revoked or its app gone. */
const TOKEN_REFUSED = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'token_revoked', 'user_removed_from_team', 'team_disabled', 'not_allowed_token_type']);
/**
 * Carries the envelope's type ('interactive', 'events_api', 'slash_commands') from Bolt's
 * socket listener to init()'s processEvent, which removes it before Bolt sees the event.
 */
const ENVELOPE_TYPE = 'countersignEnvelopeType';

/**
 * What is wrong with an envelope: an interactive envelope's payload must be an interaction of
 * the right shape; any other envelope passes as before, unless Bolt would take its payload for
 * a click or a modal submission (Bolt goes by the payload's shape, not the envelope's type).
 */
function envelopeProblem(envelopeType: unknown, body: unknown): FieldIssue | null {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (envelopeType === 'interactive') return isObject ? interactionProblem(body as Record<string, unknown>) : { field: 'payload', message: 'must be an object' };
  if (isObject && mayReachListeners(body as Record<string, unknown>)) return { field: 'envelope.type', message: 'must be interactive for a click or a modal submission' };
  return null;
}

export interface SocketReceiverOptions {
  appToken: string;
  logger: Logger;
  /** Web API options for apps.connections.open (base URL, timeout). */
  clientOptions: WebClientOptions;
}

export class SocketReceiver extends SocketModeReceiver {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private stopped = false;

  constructor(opts: SocketReceiverOptions) {
    super({
      appToken: opts.appToken,
      // The socket client logs whole envelopes (the clicked card, with the intent's summary)
      // and acks at debug: dropped, so no log level ever shows an intent.
      logger: { ...slackLogger(opts.logger), debug: () => undefined },
      // The client keeps its own retries for apps.connections.open (reconnects must outlast a
      // short Slack outage); only the base URL, timeout and logging are ours.
      installerOptions: { clientOptions: { ...opts.clientOptions } },
      customPropertiesExtractor: (args: { type?: unknown }) => ({ [ENVELOPE_TYPE]: args.type }),
    });
    this.log = opts.logger;
  }

  /**
   * Bolt hands itself in here. Each envelope's payload is checked first; each event Bolt
   * processes is tracked so stop() can let it finish.
   */
  override init(app: App): void {
    const processEvent: App['processEvent'] = (received) => {
      const { customProperties, ...event } = received;
      const problem = envelopeProblem(customProperties?.[ENVELOPE_TYPE], event.body);
      const processing = problem ? this.refuse(event, problem) : this.process(app, event);
      this.inFlight.add(processing);
      void processing.then(
        () => this.inFlight.delete(processing),
        () => this.inFlight.delete(processing),
      );
      return processing;
    };
    // SocketModeReceiver only ever calls processEvent on the app it was given.
    super.init({ processEvent } as App);
  }

  /**
   * Hands the event to Bolt, then acks it with nothing if no listener did: an interaction that
   * is not countersign's (another button of the same app) would otherwise be sent again by
   * Slack and show the clicker a warning. Over HTTP, Bolt answers such a request itself.
   * Listeners therefore ack before they return (ours ack first, then work): an ack sent later,
   * from a timer, would come after this empty one and be ignored by Slack.
   */
  private async process(app: App, event: ReceiverEvent): Promise<void> {
    let acked = false;
    const ack = event.ack;
    const tracked: ReceiverEvent = {
      ...event,
      ack: (response) => {
        acked = true;
        return ack(response);
      },
    };
    try {
      await app.processEvent(tracked);
    } finally {
      if (!acked) {
        acked = true;
        await ack().catch((err: Error) => this.log.warn({ err: err.message }, 'Slack envelope no listener took could not be acked'));
      }
    }
  }

  /**
   * A malformed payload: acked with nothing (Slack would otherwise send it again), logged by
   * the field at fault only (a payload carries the clicked card, with the intent's summary),
   * and never handed to Bolt, so no listener runs and nothing is recorded.
   */
  private async refuse(event: ReceiverEvent, problem: FieldIssue): Promise<void> {
    this.log.warn({ field: problem.field, problem: problem.message }, 'Slack envelope refused: malformed interaction payload');
    try {
      await event.ack();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'Slack envelope refused but its ack could not be sent');
    }
  }

  /**
   * Opens the connection. An app token Slack refuses stops the service (naming the variable);
   * a Slack that cannot be reached yet is logged, and the connection keeps being tried.
   */
  async connect(): Promise<void> {
    let waiting: NodeJS.Timeout | undefined;
    const first = this.keepConnecting();
    const outcome = await Promise.race([
      first.then(() => 'connected' as const),
      new Promise<'waiting'>((resolve) => (waiting = setTimeout(() => resolve('waiting'), FIRST_CONNECT_WAIT_MS))),
    ]).finally(() => clearTimeout(waiting));
    if (outcome === 'waiting') {
      this.log.warn('Slack Socket Mode not connected yet; still trying (clicks are not received meanwhile)');
      first.catch((err: Error) => this.log.error({ err: err.message }, 'Slack Socket Mode gave up connecting'));
    }
  }

  private async keepConnecting(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.start();
        this.log.info('Slack Socket Mode connected');
        return;
      } catch (err) {
        const code = (err as { data?: { error?: string } }).data?.error;
        if (code && TOKEN_REFUSED.has(code)) throw new Error(`SLACK_APP_TOKEN refused by apps.connections.open (${code}): check SLACK_APP_TOKEN`);
        const delay = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
        this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'Slack Socket Mode connection failed; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  /** Closes the connection, then lets work that continues after an ack (votes) finish. */
  override async stop(): Promise<void> {
    this.stopped = true;
    await super.stop();
    await Promise.allSettled([...this.inFlight]);
  }
}
