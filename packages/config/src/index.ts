export { loadConfigFiles } from './load.ts';
export type { ConfigLoadOptions, ConfigPaths, ConfigSnapshot, LoadedPolicy } from './load.ts';
export { ConfigRejectedError, watchConfig } from './watch.ts';
export type { ConfigWatcher, WatchConfigOptions } from './watch.ts';
export { validateAgainst } from './validate.ts';
export { ConfigError } from '@countersign/directory';
export { DEFAULT_STATE_DIR, keysDir, stateDir } from './state-dir.ts';
export { checkVariableNames, FAIL_OPEN_WHEN_MISSING, KNOWN_VARIABLES, VARIABLE_FAMILIES, type UnknownVariable } from './known-variables.ts';
