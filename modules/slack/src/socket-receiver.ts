import { SocketModeReceiver, type App } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import { slackLogger } from './slack-logger.ts';

// Socket Mode: for installs with no public ingress, the service opens a WebSocket to Slack
// (apps.connections.open with the app-level token) and Slack sends clicks and modal
// submissions over it instead of POSTing them to /slack/events. Bolt's own SocketModeReceiver
// does the protocol (hello, envelopes, acks, pings, reconnects); the same listeners run as
// over HTTP. Nothing is signed here: the connection itself, opened with our app token over
// TLS, is what vouches that the envelopes come from Slack.

/** How long start() waits for the first connection before letting it continue in the background. */
const FIRST_CONNECT_WAIT_MS = 10_000;
/** Platform errors that no retry fixes: the app token is wrong, revoked or its app gone. */
const TOKEN_REFUSED = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'token_revoked', 'user_removed_from_team', 'team_disabled', 'not_allowed_token_type']);

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
    });
    this.log = opts.logger;
  }

  /** Bolt hands itself in here; each event it processes is tracked so stop() can let it finish. */
  override init(app: App): void {
    const processEvent: App['processEvent'] = (event) => {
      const processing = app.processEvent(event);
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
