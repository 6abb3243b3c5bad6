// What test/setup/global-setup.ts provides to every test file through vitest's inject().
declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's embedded Postgres (database "postgres"). */
    databaseAdminUrl: string;
    /** URL of the run's Redis (no persistence). */
    redisUrl: string;
  }
}

export {};
