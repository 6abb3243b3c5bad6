import path from 'node:path';
import type { CliContext } from './registry.ts';

/** The policy or directory file is not named where it must be (NODE_ENV=production). */
export class ConfigFilesError extends Error {
  override name = 'ConfigFilesError';
}

export interface ConfigFilePaths {
  policyPath: string;
  directoryPath: string;
}

/**
 * The policy and directory files, picked as the server picks them (apps/server/src/settings.ts):
 * the command's --policy / --directory, else COUNTERSIGN_POLICY / COUNTERSIGN_DIRECTORY (an
 * empty value counts as unset), else the repository's demo config/… — except with
 * NODE_ENV=production, where there is no default: the demo organisation's policy approves some
 * actions by itself and its directory names people who do not exist, so the CLI stops naming
 * the variable(s) rather than check, or bind a key to, rules nobody there wrote.
 * `flags` says whether the command has --policy/--directory, for the message.
 */
export function configFilePaths(ctx: CliContext, named: { policy?: string; directory?: string } = {}, flags = false): ConfigFilePaths {
  const production = ctx.env.NODE_ENV === 'production';
  const policy = named.policy || ctx.env.COUNTERSIGN_POLICY || undefined;
  const directory = named.directory || ctx.env.COUNTERSIGN_DIRECTORY || undefined;
  if (production && (!policy || !directory)) {
    const missing = [...(policy ? [] : ['policy']), ...(directory ? [] : ['directory'])];
    const variables = missing.map((m) => (m === 'policy' ? 'COUNTERSIGN_POLICY' : 'COUNTERSIGN_DIRECTORY')).join(' and ');
    const options = flags ? ` (or ${missing.map((m) => `--${m}`).join(' and ')})` : '';
    const both = missing.length === 2;
    throw new ConfigFilesError(
      `with NODE_ENV=production, ${variables} ${both ? 'are' : 'is'} required${options}: the path${both ? 's' : ''} of your organisation's ${missing.join(' and ')} file${both ? 's' : ''} (the demo ${both ? 'ones' : 'one'} under config/ ${both ? 'are' : 'is'} not used in production)`,
    );
  }
  return {
    policyPath: path.resolve(ctx.cwd, policy ?? 'config/policy.yaml'),
    directoryPath: path.resolve(ctx.cwd, directory ?? 'config/directory.yaml'),
  };
}

/**
 * With NODE_ENV=production, the files marked `demo: true` (the repository's config/), refused
 * as the service refuses them (apps/server/src/startup/config.ts), one line per file naming its
 * variable: whatever the paths are named, the demo organisation never stands in production.
 */
export function demoProblems(ctx: CliContext, snapshot: { policy: { demo?: boolean }; directory: { demo?: boolean } }, paths: ConfigFilePaths): string[] {
  if (ctx.env.NODE_ENV !== 'production') return [];
  const demo = (variable: string, what: string, file: string) =>
    `${variable}: ${file} is the demo ${what} (demo: true), refused with NODE_ENV=production: write your organisation's own (and drop the demo line)`;
  return [
    ...(snapshot.policy.demo ? [demo('COUNTERSIGN_POLICY', 'policy', paths.policyPath)] : []),
    ...(snapshot.directory.demo ? [demo('COUNTERSIGN_DIRECTORY', 'directory', paths.directoryPath)] : []),
  ];
}

/** The files, read and compiled, refused in production when they are the demo's. */
export function loadedConfigFiles<T extends { policy: { demo?: boolean }; directory: { demo?: boolean } }>(ctx: CliContext, paths: ConfigFilePaths, load: (paths: ConfigFilePaths) => T): T {
  const snapshot = load(paths);
  const problems = demoProblems(ctx, snapshot, paths);
  if (problems.length > 0) throw new ConfigFilesError(problems.join('\n'));
  return snapshot;
}
