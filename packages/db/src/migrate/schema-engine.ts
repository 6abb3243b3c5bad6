import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

export type { SchemaEngine };

let loaded: Promise<typeof bindings.SchemaEngine> | undefined;

/**
 * The engine reports a Rust panic by calling this global before it throws "unreachable".
 * Prisma's CLI installs the same object; without it the panic text would be lost behind a
 * TypeError. The message is appended to the error we rethrow (see enginePanicMessage).
 */
const panicRegistry = {
  message: '',
  set_message(message: string): void {
    panicRegistry.message = message;
  },
};

/** Takes (and clears) the text of the last engine panic, if any. */
export function takeEnginePanicMessage(): string | undefined {
  const { message } = panicRegistry;
  panicRegistry.message = '';
  return message || undefined;
}

/**
 * Prisma's schema engine compiled to WebAssembly: the same migration logic as
 * `prisma migrate`, without the native binary the CLI would download.
 *
 * The package's own entry does `import * as wasm from "./schema_engine_bg.wasm"`, which Node 20
 * cannot load without --experimental-wasm-modules. We do what that import would: compile the
 * module, link it to its JS glue, and run its start function. Once per process.
 */
export function loadSchemaEngine(): Promise<typeof bindings.SchemaEngine> {
  loaded ??= (async () => {
    (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY = panicRegistry;
    // Some panics surface as an uncaught "RuntimeError: unreachable" outside any promise we
    // await. The process dies either way; this makes it die saying why.
    process.on('uncaughtExceptionMonitor', () => {
      if (panicRegistry.message) process.stderr.write(`Prisma schema engine panicked: ${panicRegistry.message}\n`);
    });
    const require = createRequire(import.meta.url);
    const glue = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(join(dirname(glue), 'schema_engine_bg.wasm'));
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, {
      './schema_engine_bg.js': bindings as unknown as WebAssembly.ModuleImports,
    });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings.SchemaEngine;
  })();
  return loaded;
}
