import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SchemaFilter, SchemasContainer } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { openMigrationDriver } from './migration-driver.ts';
import type { MigrationDriver } from './migration-driver.ts';
import { loadSchemaEngine, takeEnginePanicMessage } from './schema-engine.ts';
import type { SchemaEngine } from './schema-engine.ts';

/** No tables or enums are managed outside Prisma in this project. */
export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

export interface LoadedSchema {
  path: string;
  configDir: string;
  container: SchemasContainer;
}

export async function loadSchema(schemaPath: string): Promise<LoadedSchema> {
  const content = await readFile(schemaPath, 'utf8');
  return {
    path: schemaPath,
    configDir: dirname(schemaPath),
    container: { files: [{ path: basename(schemaPath), content }] },
  };
}

/**
 * Runs `work` with a schema engine connected to `databaseUrl`, then frees the engine and closes
 * its connections (which also releases the migration advisory lock).
 */
export async function withSchemaEngine<T>(
  databaseUrl: string,
  schema: LoadedSchema | undefined,
  work: (engine: SchemaEngine, driver: MigrationDriver) => Promise<T>,
): Promise<T> {
  const SchemaEngineClass = await loadSchemaEngine();
  const driver = openMigrationDriver(databaseUrl);
  try {
    const datamodels: [string, string][] | undefined = schema?.container.files.map((file) => [
      file.path,
      file.content,
    ]);
    // The callback receives the engine's JSON log lines; they are tracing noise for us.
    const engine = await SchemaEngineClass.new({ datamodels }, () => {}, bindMigrationAwareSqlAdapterFactory(driver.factory));
    try {
      return await work(engine, driver);
    } catch (error) {
      const panic = takeEnginePanicMessage();
      if (panic === undefined) throw error;
      throw new Error(`Prisma schema engine panicked: ${panic}`, { cause: error });
    } finally {
      engine.free();
    }
  } finally {
    await driver.close();
  }
}
