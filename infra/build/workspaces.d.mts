// Types for workspaces.mjs (plain JavaScript, run by node with no build step), for the
// TypeScript that imports it: test/production-build.test.ts.

/** A workspace package.json, as far as the build reads it. */
export interface WorkspaceManifest {
  name: string;
  version?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

export interface Workspace {
  name: string;
  /** Relative to the repository, forward slashes ("packages/db"). */
  dir: string;
  manifest: WorkspaceManifest;
}

/** name → workspace, for the root package.json's "<folder>/*" patterns. */
export function readWorkspaces(repoRoot: string): Map<string, Workspace>;

/** "./src/x.ts" for an export target, whatever form it takes; undefined when it has none. */
export function sourceOf(target: unknown, workspaceDir: string): string | undefined;

/** Subpath ("." or "./x") → export target, for either form of `exports`. */
export function exportEntries(manifest: { exports?: unknown }): [subpath: string, target: unknown][];

/** Splits "@scope/name/sub/path" into the package name and the export subpath ("." or "./sub/path"). */
export function splitSpecifier(specifier: string): { name: string; subpath: string };
