import { describe, expect, it } from 'vitest';
import { classify, webhookSecretFor } from '../src/index.ts';

describe('classify', () => {
  it('2xx delivers; 408, 429 and 5xx retry (with Retry-After); other statuses give up', () => {
    expect(classify(200)).toEqual({ outcome: 'delivered', status: 200 });
    expect(classify(204).outcome).toBe('delivered');
    expect(classify(503, '7')).toEqual({ outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: 7000 });
    expect(classify(500).outcome).toBe('retry');
    expect(classify(408).outcome).toBe('retry');
    expect(classify(429).outcome).toBe('retry');
    expect(classify(400)).toEqual({ outcome: 'give_up', status: 400, error: 'HTTP 400' });
    expect(classify(404).outcome).toBe('give_up');
    expect(classify(410).outcome).toBe('give_up');
    expect(classify(302)).toMatchObject({ outcome: 'give_up', error: expect.stringMatching(/redirects are not followed/) });
  });
});

describe('webhookSecretFor', () => {
  it('differs per key and per master, and is stable', () => {
    const master = Buffer.from('m'.repeat(32));
    expect(webhookSecretFor(master, 'key_a')).toBe(webhookSecretFor(master, 'key_a'));
    expect(webhookSecretFor(master, 'key_a')).not.toBe(webhookSecretFor(master, 'key_b'));
    expect(webhookSecretFor(Buffer.from('n'.repeat(32)), 'key_a')).not.toBe(webhookSecretFor(master, 'key_a'));
    expect(webhookSecretFor(master, 'key_a')).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  });
});
