import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Countersign, CountersignError } from '../src/index.ts';

// A client's options are checked when it is made, and its secrets never appear in what it
// throws: an API key or a URL's password in an error message reaches logs and, through the
// agent adapters, the model's context.

const SECRET = 'cs_key1_S3CRETS3CRETS3CRET';

let server: http.Server;
let baseUrl: string;
beforeAll(async () => {
  server = http.createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** What using a client made with these options throws, as text (message and causes). */
async function failureText(make: () => Countersign): Promise<string> {
  let error: unknown;
  try {
    await make().submit({ action: { type: 'environment.delete' } });
  } catch (err) {
    error = err;
  }
  const parts: string[] = [];
  for (let e = error; e; e = (e as { cause?: unknown }).cause) parts.push(String((e as Error).message ?? e), String(e));
  return parts.join('\n');
}

describe('Countersign options', () => {
  it('an API key that cannot be a header value is refused when the client is made, without echoing it', async () => {
    for (const apiKey of [`cs_key1_S3CRET\nS3CRETS3CRET`, `cs_key1_S3CRET\rS3CRETS3CRET`, `cs_key1_S3CRET\u0000S3CRETS3CRET`, `cs_key1_S3CRET S3CRETS3CRET`, `cs_key1_S3CRETS3CRETS3CRÉT`]) {
      const text = await failureText(() => new Countersign({ baseUrl, apiKey, maxRetries: 0 }));
      expect(text).toMatch(/apiKey/);
      expect(text).not.toContain('S3CRET');
    }
  });

  it('a baseUrl carrying credentials is refused without echoing them', async () => {
    const text = await failureText(() => new Countersign({ baseUrl: `http://user:S3CRETS3CRET@127.0.0.1:1`, apiKey: SECRET, maxRetries: 0 }));
    expect(text).toMatch(/baseUrl/);
    expect(text).not.toContain('S3CRET');
  });

  it('a baseUrl that is not an http(s) URL is refused', () => {
    for (const bad of ['countersign.internal', 'ftp://countersign.internal', 'http://']) {
      expect(() => new Countersign({ baseUrl: bad, apiKey: SECRET }), bad).toThrow(TypeError);
    }
  });

  it('a well-formed key and URL make a client whose failures name neither secret', async () => {
    const text = await failureText(() => new Countersign({ baseUrl, apiKey: SECRET, maxRetries: 0 }));
    expect(text).toContain('http_503');
    expect(text).not.toContain('S3CRET');
    expect(new Countersign({ baseUrl: `${baseUrl}/`, apiKey: SECRET })).toBeInstanceOf(Countersign);
    expect(CountersignError).toBeDefined();
  });
});

describe('Countersign numeric options', () => {
  it('a NaN, negative or infinite timeout, retry count or backoff is a TypeError at once (NaN retries never stopped retrying)', () => {
    const bad: Record<string, unknown>[] = [
      { timeoutMs: Number.NaN },
      { timeoutMs: 0 },
      { timeoutMs: Number.POSITIVE_INFINITY },
      { maxRetries: Number.NaN },
      { maxRetries: -1 },
      { maxRetries: 1.5 },
      { maxRetries: Number.POSITIVE_INFINITY },
      { backoff: { baseMs: Number.NaN, maxMs: 1000 } },
      { backoff: { baseMs: 100, maxMs: -1 } },
      { backoff: { baseMs: 2000, maxMs: 1000 } },
    ];
    for (const options of bad) {
      expect(() => new Countersign({ baseUrl, apiKey: SECRET, ...(options as object) }), JSON.stringify(options)).toThrow(TypeError);
    }
    expect(new Countersign({ baseUrl, apiKey: SECRET, timeoutMs: 1, maxRetries: 0, backoff: { baseMs: 0, maxMs: 0 } })).toBeInstanceOf(Countersign);
  });

  it('with maxRetries NaN (an unset environment variable read as a number), a failing server is not retried forever', async () => {
    const text = await failureText(() => new Countersign({ baseUrl, apiKey: SECRET, maxRetries: Number(process.env.COUNTERSIGN_TEST_UNSET_RETRIES), backoff: { baseMs: 0, maxMs: 0 } }));
    expect(text).toMatch(/maxRetries/);
  });
});
