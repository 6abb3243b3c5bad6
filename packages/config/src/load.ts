import { readFileSync } from 'node:fs';
import type { ChannelCatalog } from '@countersign/contracts';
import { ConfigError, loadDirectory } from '@countersign/directory';
import type { Directory } from '@countersign/directory';
import type { ConfigSnapshot as Snapshot, PolicyView } from '@countersign/core';
import { evaluate, loadPolicy } from '@countersign/policy';
import type { CompiledPolicy, EvaluationInput } from '@countersign/policy';

export interface ConfigPaths {
  policyPath: string;
  directoryPath: string;
}

export interface ConfigLoadOptions {
  /**
   * The channels this process has installed: rules may name them in `channels`, people may
   * carry an identity on them; any other channel key is a load error. None by default.
   */
  channels?: ChannelCatalog;
}

/** A compiled policy that evaluates itself: what the engine's PolicyView asks for. */
export type LoadedPolicy = CompiledPolicy & PolicyView;

/** The engine's one snapshot type, with the loaded files' full types (rules, people). */
export type ConfigSnapshot = Snapshot<LoadedPolicy, Directory>;

function loaded(policy: CompiledPolicy): LoadedPolicy {
  return Object.freeze({ ...policy, evaluate: (input: EvaluationInput) => evaluate(policy, input) });
}

/**
 * Read and validate both files. Throws ConfigError (a missing file is one too, at 1:1).
 * Synchronous on purpose: it runs at boot and on reload, the files are small, and callers
 * can then build their engine in one step.
 */
export function loadConfigFiles(paths: ConfigPaths, options: ConfigLoadOptions = {}): ConfigSnapshot {
  const policyText = readConfigFile(paths.policyPath);
  const directoryText = readConfigFile(paths.directoryPath);
  // Directory first: its errors are usually the cause when both are edited together.
  const directory = loadDirectory(directoryText, paths.directoryPath, options);
  const policy = loaded(loadPolicy(policyText, paths.policyPath, options));
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
