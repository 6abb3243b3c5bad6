import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { freePort } from '../src/free-port.ts';
import { isAlive } from '../src/process-owner.ts';
import { findRedisServer } from '../src/redis-install.ts';
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

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 50));
  }
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

  it('stops by itself when the process that started it is SIGKILLed', async () => {
    const dir = scratchDir();
    const fixture = join(resolve(fileURLToPath(new URL('.', import.meta.url))), 'fixtures', 'start-redis-and-wait.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.stdout === null) throw new Error('the fixture has no stdout pipe');
    const firstLine = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
    const serverPid = Number(firstLine.value);
    expect(isAlive(serverPid)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    // No 'exit' hook ran; the watchdog notices within a second or so.
    const deadline = Date.now() + 10_000;
    while (isAlive(serverPid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
    expect(isAlive(serverPid)).toBe(false);
  });

  it('stops a leftover server whose owner is dead before starting on the same folder', async () => {
    const dir = scratchDir();
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    // A server nobody watches any more, as if both its starter and the watchdog had died.
    const leftover = spawn(findRedisServer() ?? 'redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', ''], {
      stdio: 'ignore',
    });
    const leftoverPid = leftover.pid ?? -1;
    const deadOwner = spawn(process.execPath, ['-e', '']);
    await new Promise((done) => deadOwner.once('exit', done));
    await waitUntil(async () => (await command(port, 'PING').catch(() => '')) === '+PONG');
    await writeFile(
      join(dir, 'redis.owner.json'),
      JSON.stringify({ ownerPid: deadOwner.pid, serverPid: leftoverPid, commandMarker: `127.0.0.1:${port}` }),
    );

    const redis = await startRedis({ dir });
    try {
      expect(isAlive(leftoverPid) && leftover.exitCode === null).toBe(false);
      expect(redis.pid).not.toBe(leftoverPid);
    } finally {
      await redis.stop();
    }
  });

  it('refuses to start on a folder whose server is owned by a live process', async () => {
    const dir = scratchDir();
    const first = await startRedis({ dir });
    try {
      // Same process: pretend another live owner holds it by rewriting the owner file.
      const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        await writeFile(
          join(dir, 'redis.owner.json'),
          JSON.stringify({ ownerPid: sleeper.pid, serverPid: first.pid, commandMarker: `127.0.0.1:${first.port}` }),
        );
        await expect(startRedis({ dir })).rejects.toThrow(/already running for this data/);
        expect(isAlive(first.pid)).toBe(true);
      } finally {
        sleeper.kill('SIGKILL');
      }
    } finally {
      await first.stop();
    }
  });
});
