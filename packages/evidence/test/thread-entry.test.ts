import fs from 'node:fs';
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

  it('bundles a TypeScript module once into plain JavaScript, on which a thread comes up', async () => {
    expect(VERIFY_WORKER_URL).toMatch(/verify-worker\.ts$/);
    const entry = await threadEntry(VERIFY_WORKER_URL);
    expect(entry).toHaveProperty('url');
    expect((entry as { url: URL }).url.protocol).toBe('data:');
    expect(await threadEntry(VERIFY_WORKER_URL)).toEqual(entry);
    await comesUp(entry);
  });

  it('writes no file another user could have put there first: the bundle goes to the thread in memory', async () => {
    // A bundle at a shared, predictable name in the temp folder could be planted by another
    // local user, and the verifier would run it. Nothing named for countersign appears there.
    const before = new Set(fs.readdirSync(tmpdir()));
    const entry = (await threadEntry(`${VERIFY_WORKER_URL}?fresh=${Date.now()}`)) as { url: URL };
    await comesUp(entry);
    // Scripts only: other test files running meanwhile make folders of their own there.
    const added = fs.readdirSync(tmpdir()).filter((name) => !before.has(name) && name.includes('countersign') && /\.[cm]?js$/.test(name));
    expect(added).toEqual([]);
    const code = Buffer.from(entry.url.pathname.slice('text/javascript;base64,'.length), 'base64').toString('utf8');
    expect(code).toContain('countersign-verify');
  });

  it('a thread loads what checking lines needs, not the full zod or the service\'s other schemas', async () => {
    // Each thread parses and runs its whole bundle before its first line; the full zod (every
    // language) and the API's schemas made it ten times larger and its start-up three times
    // dearer. The artifact schema comes from zod/mini, through @countersign/contracts/artifact.
    const entry = (await threadEntry(VERIFY_WORKER_URL)) as { url: URL };
    const code = Buffer.from(entry.url.pathname.slice('text/javascript;base64,'.length).split('?')[0]!, 'base64').toString('utf8');
    expect(code.length).toBeLessThan(120_000);
    expect(code).toContain('Invalid discriminator value');
    expect(code).not.toContain('SealedArtifact');
  });

  it('keeps a module\'s query, which the module reads from its own address', async () => {
    const entry = (await threadEntry(`${VERIFY_WORKER_URL}?mode=x`)) as { url: URL };
    expect(entry.url.protocol).toBe('data:');
    expect(entry.url.searchParams.get('mode')).toBe('x');
    await comesUp(entry);
  });

  it('falls back to registering tsx in the thread, which also comes up', async () => {
    await comesUp({ source: tsxBootstrap(VERIFY_WORKER_URL) });
  });
});
