import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/process-owner.ts';
import { startRedis } from '../src/redis.ts';
import { removeScratchDirs, scratchDir } from './scratch.ts';

afterAll(removeScratchDirs);

/** Sends one inline command and returns the raw reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const lines = reply.split('\r\n');
      // A bulk string ("$4\r\nkept\r\n") spans two lines: answer its value. Others: the line.
      const bulk = reply.startsWith('$') && !reply.startsWith('$-1');
      if (lines.length >= (bulk ? 3 : 2)) {
        socket.destroy();
        resolveReply((bulk ? lines[1] : lines[0]) ?? '');
      }
    });
  });
}

describe('startRedis', () => {
  it('answers on 127.0.0.1 and keeps data across restarts when persistent', async () => {
    const dir = scratchDir();
    const first = await startRedis({ dir, persist: true });
    expect(first.url).toBe(`redis://127.0.0.1:${first.port}`);
    expect(await command(first.port, 'SET decision kept')).toBe('+OK');
    await first.stop();
    expect(isAlive(first.pid)).toBe(false);

    const second = await startRedis({ dir, persist: true });
    try {
      expect(await command(second.port, 'GET decision')).toBe('kept');
    } finally {
      await second.stop();
    }
  });

  it('keeps nothing when not persistent, and stops idempotently', async () => {
    const dir = scratchDir();
    const first = await startRedis({ dir });
    expect(await command(first.port, 'SET decision gone')).toBe('+OK');
    await Promise.all([first.stop(), first.stop()]);
    const second = await startRedis({ dir });
    try {
      expect(await command(second.port, 'GET decision')).toBe('$-1');
    } finally {
      await second.stop();
    }
  });

  it('stops a server orphaned by a killed process before starting on the same folder', async () => {
    const dir = scratchDir();
    const fixture = join(resolve(fileURLToPath(new URL('.', import.meta.url))), 'fixtures', 'start-redis-and-wait.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.stdout === null) throw new Error('the fixture has no stdout pipe');
    const firstLine = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
    const orphanPid = Number(firstLine.value);
    expect(isAlive(orphanPid)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    // Its owner is dead; the server lives on, detached.
    expect(isAlive(orphanPid)).toBe(true);

    const redis = await startRedis({ dir, persist: true });
    try {
      expect(isAlive(orphanPid)).toBe(false);
      expect(redis.pid).not.toBe(orphanPid);
    } finally {
      await redis.stop();
    }
  });
});
