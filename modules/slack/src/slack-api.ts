import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { toChannelError } from './slack-errors.ts';

const FAILURES_METRIC = 'countersign_slack_api_failures_total';

/**
 * Every Web API call goes through `call`, so each failure is logged once (method and Slack's
 * code, never a message body), counted in metrics, and leaves as a ChannelError.
 */
export class SlackApi {
  private readonly failures: Counter<'method' | 'code' | 'retryable'> | undefined;

  constructor(
    readonly client: WebClient,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    if (registry) {
      const existing = registry.getSingleMetric(FAILURES_METRIC);
      this.failures =
        (existing as Counter<'method' | 'code' | 'retryable'> | undefined) ??
        new Counter({
          name: FAILURES_METRIC,
          help: 'Slack Web API calls that failed, by method, Slack error code and whether a retry can help.',
          labelNames: ['method', 'code', 'retryable'] as const,
          registers: [registry],
        });
    }
  }

  async call<T>(method: string, fn: (client: WebClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (err) {
      const failure = toChannelError(err, method);
      this.failures?.inc({ method, code: failure.code, retryable: String(failure.retryable) });
      const fields = { method, code: failure.code, retryable: failure.retryable, retryAfterMs: failure.retryAfterMs };
      if (failure.retryable) this.logger.warn(fields, 'Slack call failed; it will be retried');
      else this.logger.error(fields, 'Slack call failed for good; not retried');
      throw failure;
    }
  }
}
