// Types for build.mjs (plain JavaScript, run by node with no build step), for the TypeScript
// that imports it: test/production-build.test.ts and test/evidence-threads-build.test.ts.

export const repoRoot: string;

/** The production entry points; the image runs `node dist/<entry>.js`. */
export const ENTRIES: { main: string; migrate: string };

/** Workspaces for development only: reaching one from an entry fails the build. */
export const DEVELOPMENT_ONLY: string[];

/** npm packages that must never be installed in production. */
export const NEVER_SHIPPED: RegExp[];

/** Declared dependencies the running service never loads. */
export const BUILD_TIME_ONLY: string[];

export interface BuildOptions {
  /** Default: dist/ at the repository root. */
  outDir?: string;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
}

/** What was built (also written to the output's .countersign-build.json, without outDir). */
export interface BuildResult {
  /** Absolute. */
  outDir: string;
  /** Entry name → built file, relative to outDir ("apps/server/src/main.js"). */
  entries: { main: string; migrate: string };
  /** Names of the workspaces built, sorted. */
  workspaces: string[];
  /** Source files compiled. */
  files: number;
  /** Packages in the production install's closure. */
  productionPackages: number;
}

/** `npm run build`: the service as plain JavaScript in `outDir`. */
export function buildProduction(options?: BuildOptions): Promise<BuildResult>;
