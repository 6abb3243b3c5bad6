import { readFileSync } from 'node:fs';
import { ConfigError, loadDirectory } from '@countersign/directory';
import type { Directory } from '@countersign/directory';
import { loadPolicy } from '@countersign/policy';
import type { CompiledPolicy } from '@countersign/policy';

export interface ConfigPaths {
  policyPath: string;
  directoryPath: string;
}

/** The policy and directory in force together. Replaced whole, never mutated. */
export interface ConfigSnapshot {
  policy: CompiledPolicy;
  directory: Directory;
}

/**
 * Read and validate both files. Throws ConfigError (a missing file is one too, at 1:1).
 * Synchronous on purpose: it runs at boot and on reload, the files are small, and callers
 * can then build their engine in one step.
 */
export function loadConfigFiles(paths: ConfigPaths): ConfigSnapshot {
  const policyText = readConfigFile(paths.policyPath);
  const directoryText = readConfigFile(paths.directoryPath);
  // Directory first: its errors are usually the cause when both are edited together.
  const directory = loadDirectory(directoryText, paths.directoryPath);
  const policy = loadPolicy(policyText, paths.policyPath);
  return { policy, directory };
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, 1, 1, code === 'ENOENT' ? 'file not found' : `cannot read file: ${(err as Error).message}`);
  }
}
