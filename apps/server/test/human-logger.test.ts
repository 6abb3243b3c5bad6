import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../src/http/logging.ts';
import { humanLines } from '../src/logger.ts';

describe('human log lines (npm start)', () => {
  it('prints one readable line per record, after redaction', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const log = pino(loggerOptions({ level: 'info' }), humanLines(out));
    log.warn({ module: 'worker', intent: { action: { type: 'payment.send' } }, token: 'sekret-token' }, 'no chat channel registered');
    expect(text).toMatch(/^countersign warn: no chat channel registered {2}\(module=worker/);
    expect(text).not.toContain('sekret-token');
    expect(text).not.toContain('payment.send');
    expect(text.trim().split('\n')).toHaveLength(1);
  });
});
