// Shared by the npm scripts (start, test, run, cli). Plain ESM JavaScript with no dependencies:
// these scripts are what makes the dependencies exist in the first place.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate } from './generate.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function mtimeOf(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function workspaceManifests() {
  const manifests = [join(repoRoot, 'package.json')];
  for (const group of ['apps', 'modules', 'packages']) {
    const folder = join(repoRoot, group);
    if (!existsSync(folder)) continue;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const manifest = join(folder, entry.name, 'package.json');
      if (entry.isDirectory() && existsSync(manifest)) manifests.push(manifest);
    }
  }
  return manifests;
}

/**
 * Installs dependencies when node_modules is missing or older than the lockfile or any
 * workspace package.json. npm writes node_modules/.package-lock.json on every install, so its
 * time is "when node_modules was last brought up to date".
 */
export function ensureInstalled() {
  const lockfile = join(repoRoot, 'package-lock.json');
  const installedAt = mtimeOf(join(repoRoot, 'node_modules', '.package-lock.json'));
  const inputs = [lockfile, ...workspaceManifests()];
  const stale = inputs.filter((path) => {
    const changedAt = mtimeOf(path);
    return changedAt !== undefined && (installedAt === undefined || changedAt > installedAt);
  });
  if (installedAt !== undefined && stale.length === 0) return;
  const why = installedAt === undefined ? 'node_modules is missing' : 'package files changed since the last install';
  // `npm install`, not `npm ci`: it follows package-lock.json all the same, but `npm ci` also
  // insists on lockfile entries for other platforms' optional binaries (turbo's darwin and
  // windows builds), which registry mirrors that carry only Linux builds cannot provide.
  npm(['install', '--no-audit', '--no-fund'], why);
}

function npm(args, why, { allowFailure = false } = {}) {
  console.log(`countersign: ${why}; running npm ${args.join(' ')}`);
  const command = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // Two installs into one node_modules at once corrupt it (two checkouts' scripts, or a test
  // run while another terminal installs): where flock(1) exists, installs take turns.
  const locked = process.platform !== 'win32' && spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
  const [file, argv] = locked ? ['flock', ['/tmp/npm.lock', command, ...args]] : [command, args];
  // stderr is captured and then shown as it came.
  const result = spawnSync(file, argv, {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  process.stderr.write(result.stderr ?? '');
  const ok = result.status === 0;
  if (!ok && !allowFailure) {
    throw new Error(`npm ${args[0]} failed with exit code ${result.status ?? result.signal}`);
  }
  return { ok, status: result.status ?? result.signal, stderr: result.stderr ?? '' };
}

/** Generates the Prisma client when schema.prisma (or Prisma) changed since the last time. */
export function ensureGenerated() {
  generate();
}

/**
 * Makes sure redis-server exists (installing it with apt-get as root on a fresh machine).
 * The logic lives in the devstack package; tsx's API loads its TypeScript in-process.
 */
export async function ensureRedisServer() {
  const { tsImport } = await import('tsx/esm/api');
  const installer = join(repoRoot, 'packages', 'devstack', 'src', 'redis-install.ts');
  const module = await tsImport(pathToFileURL(installer).href, import.meta.url);
  return module.ensureRedisServer();
}

/**
 * Runs a TypeScript file with the local tsx, inheriting stdio, and exits with the child's code
 * once it is gone. The first SIGINT/SIGTERM received here is passed on to the child, which
 * decides how to shut down. Later ones are not: a terminal's Ctrl-C already reaches the child
 * directly (same process group), so forwarding every one would double each keypress.
 */
export function runTsx(file, args = [], { env } = {}) {
  const tsxCli = join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return runNode(tsxCli, [resolve(repoRoot, file), ...args], { env });
}

/** Same as runTsx for any node entry point (e.g. the vitest CLI). */
export function runNode(entry, args = [], { env } = {}) {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: process.cwd(),
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  const forwarded = new Set();
  const forward = (signal) => {
    if (forwarded.has(signal)) return;
    forwarded.add(signal);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, forward);
  child.on('error', (error) => {
    console.error(`countersign: could not start ${entry}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of ['SIGINT', 'SIGTERM']) process.off(s, forward);
    // Ended by a signal: report it the shell's way (128 + signal number).
    if (signal) process.exit(128 + (signalNumbers[signal] ?? 1));
    process.exit(code ?? 1);
  });
  return child;
}

const signalNumbers = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * What every entry point needs first: the workspace's packages installed and the Prisma client
 * generated. Stops with the reason (no stack) when either fails.
 */
export function prepare() {
  try {
    ensureInstalled();
    ensureGenerated();
  } catch (error) {
    fail(error);
  }
}

/** Prints an error the way every script does and exits non-zero. */
export function fail(error) {
  console.error(`countersign: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
