import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { guardChild, releaseChild } from './exit-guard.ts';
import { watchOwner } from './owner-watchdog.ts';
import { freePort } from './free-port.ts';
import { postgresBinaries } from './postgres-binaries.ts';
import { ensureReachable, postgresRunAs } from './postgres-user.ts';
import type { RunAs } from './postgres-user.ts';
import { isAlive, reclaimFromDeadOwner, removeOwner, writeOwner } from './process-owner.ts';
import { stopChild, TailBuffer } from './child-process.ts';

export interface StartPostgresOptions {
  /** Cluster folder; reused across runs once initialised (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Receives Postgres' own log lines; silent when omitted. */
  log?: (line: string) => void;
  /**
   * Trade crash safety for speed (fsync off): for throwaway test clusters only. Data written
   * by `npm start` must survive a power cut, so the default is durable.
   */
  ephemeral?: boolean;
}

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database, e.g. postgres://postgres:…@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  pid: number;
  /** Fast shutdown (rolls back open transactions); safe to call more than once. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
// Written after initdb succeeds, so its presence also means "this cluster is complete".
const PASSWORD_FILE = 'countersign-superuser.password';
const START_TIMEOUT_MS = 60_000;

export async function startPostgres(options: StartPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? (() => {});
  const binaries = await postgresBinaries();
  const runAs = postgresRunAs();
  mkdirSync(dirname(dataDir), { recursive: true });
  if (runAs) ensureReachable([binaries.postgres, dataDir], runAs, log);

  const ownerPath = `${dataDir}.owner.json`;
  await reclaimFromDeadOwner(ownerPath, 'Postgres', 'SIGINT');
  const password = await ensureInitialised(dataDir, binaries.initdb, runAs, log);

  // A free port can be taken between our probe and Postgres binding it: retry on a new one.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch({
        dataDir,
        port,
        password,
        runAs,
        ownerPath,
        log,
        binary: binaries.postgres,
        ephemeral: options.ephemeral ?? false,
      });
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error;
    }
  }
}

class PortInUseError extends Error {}

async function ensureInitialised(
  dataDir: string,
  initdb: string,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<string> {
  const passwordPath = join(dataDir, PASSWORD_FILE);
  if (existsSync(passwordPath)) return readFileSync(passwordPath, 'utf8').trim();

  // Two first-ever starts at once must not wipe each other's initdb.
  const lockPath = `${dataDir}.init.lock`;
  takeInitLock(lockPath);
  try {
    return await initialise(dataDir, passwordPath, initdb, runAs, log);
  } finally {
    rmSync(lockPath, { force: true });
  }
}

function takeInitLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new Error(`another process (pid ${holder}) is initialising this Postgres cluster; try again when it is done`);
      }
      // The holder died mid-initdb: its half-made cluster is wiped below.
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not take ${lockPath}`);
}

async function initialise(
  dataDir: string,
  passwordPath: string,
  initdb: string,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<string> {
  // No marker: either new, or an initdb that died half-way. Neither holds data worth keeping.
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);

  const password = randomBytes(18).toString('base64url');
  const pwfile = join(tmpdir(), `countersign-pg-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  try {
    const tail = new TailBuffer();
    const child = spawn(
      initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=peer',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
        '--no-sync',
      ],
      { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    child.stdout?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    const code = await new Promise<number | null>((resolveExit, reject) => {
      child.on('error', reject);
      child.on('close', resolveExit);
    });
    if (code !== 0) {
      throw new Error(`initdb failed for ${dataDir} (exit ${code}):\n${tail.text()}`);
    }
    log(`devstack: initialised a new Postgres cluster in ${dataDir}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(passwordPath, `${password}\n`, { mode: 0o600 });
  return password;
}

interface LaunchArgs {
  dataDir: string;
  port: number;
  password: string;
  runAs: RunAs | undefined;
  ownerPath: string;
  binary: string;
  ephemeral: boolean;
  log: (line: string) => void;
}

/** What only devstack sets: where Postgres listens and keeps its files. */
const FIXED_SETTINGS = new Set(['port', 'data_directory', 'config_file', 'hba_file', 'ident_file', 'listen_addresses', 'unix_socket_directories', 'external_pid_file']);

/** `k=v;k=v` as settings. */
function extraSettings(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

async function launch(args: LaunchArgs): Promise<RunningPostgres> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // TCP only: no socket files in /tmp to collide with or leave behind.
    unix_socket_directories: '',
    max_connections: '300',
    ...(args.ephemeral
      ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }
      : {}),
  };
  // Diagnostics (`DEVSTACK_POSTGRES_SETTINGS="shared_preload_libraries=pg_stat_statements;…"`):
  // added to the settings above, never replacing one (nor the port, files or sockets). Names
  // are compared as Postgres reads them: any case, `-` as `_` (review s16 e, 3).
  const added: string[] = [];
  for (const [raw, value] of Object.entries(extraSettings(process.env.DEVSTACK_POSTGRES_SETTINGS))) {
    const key = raw.toLowerCase().replaceAll('-', '_');
    if (key in settings || FIXED_SETTINGS.has(key)) {
      args.log(`devstack: DEVSTACK_POSTGRES_SETTINGS: ${raw} is devstack's own; ignored`);
      continue;
    }
    settings[key] = value;
    added.push(key);
  }
  if (added.length > 0) args.log(`devstack: DEVSTACK_POSTGRES_SETTINGS: ${added.join(', ')} added`);
  const child = spawn(
    args.binary,
    ['-D', args.dataDir, '-p', String(args.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    {
      ...args.runAs,
      // Own process group: a terminal's Ctrl-C goes to our process, which stops Postgres after
      // the app has finished with it, instead of Postgres dying mid-shutdown.
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  const tail = new TailBuffer();
  child.stderr?.on('data', (chunk: Buffer) => {
    tail.push(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) args.log(line);
  });
  const spawned = await new Promise<number>((resolveSpawn, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolveSpawn(child.pid ?? -1));
  });
  guardChild(spawned);
  const watchdog = watchOwner(spawned, 'INT');
  writeOwner(args.ownerPath, { ownerPid: process.pid, serverPid: spawned, commandMarker: args.dataDir });

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(args.password)}@127.0.0.1:${args.port}/postgres`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      watchdog.release();
      // SIGINT is Postgres' "fast" shutdown: clients are disconnected, data is checkpointed.
      await stopChild(child, 'SIGINT', 30_000);
      releaseChild(spawned);
      removeOwner(args.ownerPath);
    })();
    return stopping;
  };

  try {
    await waitUntilAccepting(url, child, tail);
  } catch (error) {
    await stop();
    if (/could not bind|address already in use/i.test(tail.text())) {
      throw new PortInUseError(`port ${args.port} is in use`);
    }
    throw error;
  }
  return { url, port: args.port, pid: spawned, stop };
}

async function waitUntilAccepting(url: string, child: ChildProcess, tail: TailBuffer): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Postgres exited during start (${child.exitCode ?? child.signalCode}):\n${tail.text()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {
        // The connection never opened; there is nothing to close.
      });
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(
    `Postgres did not accept connections within ${START_TIMEOUT_MS / 1000}s (${(lastError as Error | undefined)?.message ?? 'no error'}):\n${tail.text()}`,
  );
}

