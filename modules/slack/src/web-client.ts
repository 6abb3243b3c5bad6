import type { WebClient, WebClientOptions } from '@slack/web-api';
import { LeanWebClient } from './lean-web-client.ts';
import type { Logger } from 'pino';
import type { SlackSettings } from './settings.ts';
import { slackLogger } from './slack-logger.ts';

/**
 * Options shared by every WebClient we build (ours and the one Bolt hands to listeners).
 * `rejectRateLimitedCalls` and no retries: a 429 or a 5xx comes straight back as an error, so
 * the queue's pacer and backoff own every retry and honour Retry-After without a job sleeping
 * inside a Slack call (the WebClient's default would retry for about 30 minutes).
 */
export function webClientOptions(settings: SlackSettings, logger: Logger): WebClientOptions {
  return {
    ...(settings.SLACK_API_URL ? { slackApiUrl: settings.SLACK_API_URL } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: settings.SLACK_API_TIMEOUT_MS,
    logger: slackLogger(logger),
  };
}

export function createWebClient(settings: SlackSettings, logger: Logger): WebClient {
  return new LeanWebClient(settings.SLACK_BOT_TOKEN, webClientOptions(settings, logger));
}
