import pino, { type Logger } from 'pino';
import { loggerOptions } from './http/logging.ts';

export function createLogger(level: string, pretty = false): Logger {
  return pino(loggerOptions({ level, pretty }));
}
