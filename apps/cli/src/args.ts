import { parseArgs, type ParseArgsConfig } from 'node:util';

/** node:util parseArgs, with usage errors turned into a message instead of a stack. */
export function parseCli<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  return parseArgs({ args, options, allowPositionals: true, strict: true });
}
