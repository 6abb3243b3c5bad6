import type { LogLevel, Logger as SlackLogger } from '@slack/logger';
import type { Logger } from 'pino';

/**
 * Bolt and the WebClient log through this, into the service's pino logger. Their own chatter
 * (request lines, "http request failed") goes to debug: our wrappers log failures once, with
 * the method and Slack's error code and never a message body.
 */
export function slackLogger(logger: Logger): SlackLogger {
  let level = 'info' as LogLevel;
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => logger.debug(text(msg)),
    info: (...msg: unknown[]) => logger.debug(text(msg)),
    warn: (...msg: unknown[]) => logger.debug(text(msg)),
    error: (...msg: unknown[]) => logger.warn(text(msg)),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
