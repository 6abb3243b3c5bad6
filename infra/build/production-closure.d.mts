// Types for production-closure.mjs (plain JavaScript, run by node with no build step), for the
// TypeScript that imports it: test/production-build.test.ts.

/**
 * Which npm packages `npm install --omit=dev` installs for these workspaces.
 *
 * @param lock parsed package-lock.json (lockfileVersion 3: the "packages" map)
 * @param workspaces Map dir → manifest of the production tree's workspaces
 * @returns Map lockfile path ("node_modules/x") → package name, every package installed
 */
export function productionClosure(lock: unknown, workspaces: ReadonlyMap<string, unknown>): Map<string, string>;
