import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// How a worker thread loads a module given by its address. Compiled JavaScript (a build) loads
// as is. A TypeScript source (tsx, vitest, the CLI) cannot: Node 20 gives a new thread no
// TypeScript loader. Registering tsx in each thread works but costs about a second of CPU per
// thread (its own loader thread, then every module through it), which on a small machine eats
// what the threads save. So the module and everything it imports are bundled once per process
// into one plain JavaScript file (esbuild, which tsx brings); only if that fails does each
// thread register tsx.

/** Start a worker on `url`, or evaluate `source` (a bootstrap) as the worker's code. */
export type ThreadEntry = { url: URL } | { source: string };

/** What is used of esbuild's API (its types are not a dependency of this package). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}

const bundles = new Map<string, Promise<URL>>();

export async function threadEntry(module: string): Promise<ThreadEntry> {
  const url = new URL(module);
  if (!/\.(c|m)?ts$/.test(url.pathname)) return withQuery(url, url.search);
  const file = new URL(url.pathname, 'file:');
  let bundle = bundles.get(file.href);
  if (!bundle) {
    bundle = bundleOf(file);
    bundles.set(file.href, bundle);
  }
  let bundled: URL;
  try {
    bundled = await bundle;
  } catch {
    return { source: tsxBootstrap(module) };
  }
  return withQuery(bundled, url.search);
}

/** A worker started on a file URL loses its query (Node turns it into a path); import() keeps it. */
function withQuery(url: URL, search: string): ThreadEntry {
  if (search === '') return { url };
  const href = `${url.href.split('?')[0]}${search}`;
  return { source: `import(${JSON.stringify(href)});` };
}

async function bundleOf(file: URL): Promise<URL> {
  const path = fileURLToPath(file);
  const esbuild = (await import(pathToFileURL(esbuildPath(path)).href)) as Esbuild;
  const result = await esbuild.build({
    entryPoints: [path],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    write: false,
    logLevel: 'silent',
    // A CommonJS dependency that requires a Node module needs `require` in an ES module.
    banner: { js: "import { createRequire as __countersignRequire } from 'node:module'; const require = __countersignRequire(import.meta.url);" },
  });
  const code = result.outputFiles[0]!.text;
  // Named by content: processes share a bundle, and an edited source makes a new one.
  const out = join(tmpdir(), `countersign-thread-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(out)) {
    const partial = `${out}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, out);
  }
  return pathToFileURL(out);
}

/** esbuild as tsx brings it (tsx is a development dependency; sources run only where it is). */
function esbuildPath(from: string): string {
  const tsx = createRequire(from).resolve('tsx/package.json');
  return createRequire(tsx).resolve('esbuild');
}

/** A thread bootstrap that registers tsx, then loads the TypeScript module (the fallback). */
export function tsxBootstrap(module: string): string {
  // require.resolve gives the CommonJS entry; the ES module one beside it is what import() wants.
  const resolved = createRequire(fileURLToPath(new URL(new URL(module).pathname, 'file:'))).resolve('tsx/esm/api');
  const esm = resolved.replace(/\.cjs$/, '.mjs');
  const api = pathToFileURL(existsSync(esm) ? esm : resolved).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); });`;
}
