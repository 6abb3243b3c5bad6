import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { threadEntry, tsxBootstrap, type ThreadEntry } from '../src/thread-entry.ts';
import { VERIFY_WORKER_URL } from '../src/verify-worker.ts';

// How a verifying thread loads its module: compiled JavaScript as is, TypeScript sources bundled
// once into plain JavaScript, or (if bundling fails) through tsx registered in the thread.

/** Starts a verifying thread on `entry` and resolves when it says it is up. */
async function comesUp(entry: ThreadEntry): Promise<void> {
  const setup = { workerData: { role: 'countersign-verify' } };
  const worker = 'url' in entry ? new Worker(entry.url, setup) : new Worker(entry.source, { ...setup, eval: true });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { ready?: boolean }) => m.ready && resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`thread exited ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

describe('threadEntry', () => {
  it('loads compiled JavaScript as it is', async () => {
    expect(await threadEntry('file:///srv/app/packages/evidence/src/verify-worker.js')).toEqual({ url: new URL('file:///srv/app/packages/evidence/src/verify-worker.js') });
  });

  it('bundles a TypeScript module once into one plain JavaScript file, on which a thread comes up', async () => {
    expect(VERIFY_WORKER_URL).toMatch(/verify-worker\.ts$/);
    const entry = await threadEntry(VERIFY_WORKER_URL);
    expect(entry).toHaveProperty('url');
    const url = (entry as { url: URL }).url;
    expect(url.pathname.startsWith(tmpdir())).toBe(true);
    expect(url.pathname).toMatch(/countersign-thread-[0-9a-f]{16}\.mjs$/);
    expect(await threadEntry(VERIFY_WORKER_URL)).toEqual(entry);
    await comesUp(entry);
  });

  it('keeps a module\'s query, which a worker started on a file URL would drop', async () => {
    const entry = await threadEntry(`${VERIFY_WORKER_URL}?mode=x`);
    expect(entry).toHaveProperty('source');
    expect((entry as { source: string }).source).toMatch(/^import\(".*countersign-thread-[0-9a-f]{16}\.mjs\?mode=x"\);$/);
    await comesUp(entry);
  });

  it('falls back to registering tsx in the thread, which also comes up', async () => {
    await comesUp({ source: tsxBootstrap(VERIFY_WORKER_URL) });
  });
});
