export { loadConfigFiles } from './load.ts';
export type { ConfigPaths, ConfigSnapshot } from './load.ts';
export { watchConfig } from './watch.ts';
export type { ConfigWatcher, WatchConfigOptions } from './watch.ts';
export { validateAgainst } from './validate.ts';
export { ConfigError } from '@countersign/directory';
