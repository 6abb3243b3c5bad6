import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { stopChild, TailBuffer } from './child-process.ts';
import { guardChild, releaseChild } from './exit-guard.ts';
import { watchOwner } from './owner-watchdog.ts';
import { freePort } from './free-port.ts';
import { reclaimFromDeadOwner, removeOwner, writeOwner } from './process-owner.ts';
import { ensureRedisServer } from './redis-install.ts';

export interface StartRedisOptions {
  /** Working folder: the append-only file when persistent, and the owner file. */
  dir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Keep data across restarts (append-only file, fsync every second). Default false. */
  persist?: boolean;
  log?: (line: string) => void;
}

export interface RunningRedis {
  url: string;
  port: number;
  pid: number;
  /** Stops Redis (SIGTERM: it flushes its append-only file first); safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

export async function startRedis(options: StartRedisOptions): Promise<RunningRedis> {
  const dir = resolve(options.dir);
  const log = options.log ?? (() => {});
  const binary = ensureRedisServer(log);
  mkdirSync(dir, { recursive: true });
  const ownerPath = join(dir, 'redis.owner.json');
  await reclaimFromDeadOwner(ownerPath, 'Redis', 'SIGTERM');

  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch({ binary, dir, port, persist: options.persist ?? false, ownerPath, log });
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error;
    }
  }
}

class PortInUseError extends Error {}

interface LaunchArgs {
  binary: string;
  dir: string;
  port: number;
  persist: boolean;
  ownerPath: string;
  log: (line: string) => void;
}

async function launch(args: LaunchArgs): Promise<RunningRedis> {
  const flags = [
    '--bind', '127.0.0.1',
    '--port', String(args.port),
    '--dir', args.dir,
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    // Snapshots are off either way: persistence, when wanted, is the append-only file.
    '--save', '',
    '--appendonly', args.persist ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    '--logfile', '',
  ];
  const child = spawn(args.binary, flags, {
    // Own process group, like Postgres: Ctrl-C reaches us first and we stop Redis in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new TailBuffer();
  const onOutput = (chunk: Buffer): void => {
    tail.push(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) args.log(line);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const pid = await new Promise<number>((resolveSpawn, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolveSpawn(child.pid ?? -1));
  });
  guardChild(pid);
  const watchdog = watchOwner(pid, 'TERM');
  // Redis retitles itself "redis-server 127.0.0.1:PORT": that identifies this very server.
  writeOwner(args.ownerPath, { ownerPid: process.pid, serverPid: pid, commandMarker: `127.0.0.1:${args.port}` });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      watchdog.release();
      await stopChild(child, 'SIGTERM', 15_000);
      releaseChild(pid);
      removeOwner(args.ownerPath);
    })();
    return stopping;
  };

  try {
    await waitForPong(args.port, child, tail);
  } catch (error) {
    await stop();
    if (/address already in use/i.test(tail.text())) throw new PortInUseError(`port ${args.port} is in use`);
    throw error;
  }
  return { url: `redis://127.0.0.1:${args.port}`, port: args.port, pid, stop };
}

async function waitForPong(port: number, child: ChildProcess, tail: TailBuffer): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited during start (${child.exitCode ?? child.signalCode}):\n${tail.text()}`);
    }
    if (await ping(port)) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS / 1000}s:\n${tail.text()}`);
}

/** One inline PING over a raw socket: devstack needs no Redis client library for this. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // "-LOADING": Redis is still reading its append-only file; not ready yet.
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
