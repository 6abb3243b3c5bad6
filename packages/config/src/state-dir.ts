import path from 'node:path';

// Where `npm start` keeps what it makes (database, Redis, signing keys, demo keys, the
// runtime file naming its URL and database): `.countersign/` under the working folder, or
// COUNTERSIGN_STATE_DIR. The service, the CLI and the examples all ask here, so a second
// instance started with COUNTERSIGN_STATE_DIR is found by tools given the same variable.

export const DEFAULT_STATE_DIR = '.countersign';

/** The state folder, absolute. */
export function stateDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return path.resolve(cwd, env.COUNTERSIGN_STATE_DIR || DEFAULT_STATE_DIR);
}

/** The signing keys folder: COUNTERSIGN_KEYS_DIR, else `keys/` in the state folder. */
export function keysDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return env.COUNTERSIGN_KEYS_DIR ? path.resolve(cwd, env.COUNTERSIGN_KEYS_DIR) : path.join(stateDir(env, cwd), 'keys');
}
