export { ConfigError } from './config-error.ts';
export { parseYamlWithSchema, formatPath } from './yaml-config.ts';
export type { ParsedYaml, ConfigPath } from './yaml-config.ts';
export { contentDigest } from './digest.ts';
export { directoryFileSchema, loadDirectory, type DirectoryLoadOptions } from './load-directory.ts';
export type { Directory } from './directory.ts';
