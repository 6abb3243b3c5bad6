import pino, { type DestinationStream, type Logger } from 'pino';
import { loggerOptions } from './http/logging.ts';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'v']);

/**
 * For `npm start` in a terminal: one readable line per log record instead of JSON. The record
 * is formatted after pino has applied its redaction, so nothing secret appears here either.
 */
export function humanLines(out: NodeJS.WritableStream = process.stderr): DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const level = LEVELS[Number(rec.level)] ?? String(rec.level);
      const extra = Object.entries(rec)
        .filter(([k]) => !PLUMBING.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`countersign ${level}: ${String(rec.msg ?? '')}${extra ? `  (${extra})` : ''}\n`);
    },
  };
}

export function createLogger(level: string, opts: { human?: boolean } = {}): Logger {
  const options = loggerOptions({ level });
  return opts.human ? pino(options, humanLines()) : pino(options);
}
