import { loadSchema, NO_FILTER, withSchemaEngine } from './engine-session.ts';
import { DEFAULT_SCHEMA_PATH } from './paths.ts';

/**
 * The SQL that would take the database at `databaseUrl` to what `schemaPath` describes; an
 * empty string when they already match. A non-empty answer on a migrated database means
 * schema.prisma was edited without a migration (or the database was changed by hand).
 */
export async function diffDatabaseAgainstSchema(
  databaseUrl: string,
  schemaPath: string = DEFAULT_SCHEMA_PATH,
): Promise<string> {
  const schema = await loadSchema(schemaPath);
  const result = await withSchemaEngine(databaseUrl, schema, (engine) =>
    engine.diff({
      // "schemaDatasource" is the live database behind the adapter (URL targets are gone).
      from: { tag: 'schemaDatasource', files: schema.container.files, configDir: schema.configDir },
      to: { tag: 'schemaDatamodel', files: schema.container.files },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    }),
  );
  // With exitCode requested the engine answers 0 for "no difference", 2 for "difference".
  if (result.exitCode === 0) return '';
  if (result.exitCode === 2) return (result.stdout ?? '').trim();
  throw new Error(`schema engine diff ended with unexpected exit code ${result.exitCode}`);
}
