import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as verify } from '../src/commands/verify.ts';

// `--key URL` that cannot be fetched said only "fetch failed": now the URL and the reason.
// An empty export (or one of blank lines) with --allow-no-trailer said "OK: 0 records" without
// the note every other export without a trailer gets — the one case where all of it may have
// been cut off.

const dir = mkdtempSync(join(tmpdir(), 'countersign-verify-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'pub.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
writeFileSync(join(dir, 'empty.jsonl'), '');
writeFileSync(join(dir, 'blank.jsonl'), '\n\n\n');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => ({ write: (chunk: string | Uint8Array) => (append(chunk.toString()), true) }) as unknown as NodeJS.WritableStream;
  const code = await verify(args, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {}, cwd: dir });
  return { code, out, err };
}

/** A local port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('countersign verify messages', () => {
  it('a --key URL that cannot be fetched: the URL and the reason, exit 2', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/.well-known/jwks.json`;
    const run = await cli(['empty.jsonl', '--key', url]);
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toBe(`countersign verify: cannot fetch ${url}: connect ECONNREFUSED ${url.slice('http://'.length, url.indexOf('/', 'http://'.length))}\n`);
  });

  it('an empty export with --allow-no-trailer carries the no-trailer note', async () => {
    for (const file of ['empty.jsonl', 'blank.jsonl']) {
      const run = await cli([file, '--key', 'pub.pem', '--allow-no-trailer']);
      expect(run.code).toBe(0);
      expect(run.out).toBe('OK: 0 records\nnote: no trailer; records cut off the end would go unnoticed\n');
    }
  });
});
