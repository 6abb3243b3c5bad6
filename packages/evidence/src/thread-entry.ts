import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

// How a worker thread loads a module given by its address. Compiled JavaScript (a build) loads
// as is. A TypeScript source (tsx, vitest, the CLI) cannot: Node 20 gives a new thread no
// TypeScript loader. Registering tsx in each thread works but costs about a second of CPU per
// thread (its own loader thread, then every module through it), which on a small machine eats
// what the threads save. So the module and everything it imports are bundled once per process
// into plain JavaScript (esbuild, which tsx brings), handed to each thread in memory; only if
// bundling fails does each thread register tsx.

/** Start a worker on `url`, or evaluate `source` (a bootstrap) as the worker's code. */
export type ThreadEntry = { url: URL } | { source: string };

/** What is used of esbuild's API (its types are not a dependency of this package). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ outputFiles: Array<{ text: string }> }>;
}

const bundles = new Map<string, Promise<string>>();

export async function threadEntry(module: string): Promise<ThreadEntry> {
  const url = new URL(module);
  if (!/\.(c|m)?ts$/.test(url.pathname)) return withQuery(url, url.search);
  const file = new URL(url.pathname, 'file:');
  let bundle = bundles.get(file.href);
  if (!bundle) {
    bundle = bundleOf(file);
    bundles.set(file.href, bundle);
  }
  let code: string;
  try {
    code = await bundle;
  } catch {
    return { source: tsxBootstrap(module) };
  }
  // Handed to the thread in memory, as a data: URL (its query stays the module's own), never
  // written to a file: a bundle at a predictable name in the shared temp folder could be put
  // there first by another local user, and the verifier would run their code.
  return { url: new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}${url.search}`) };
}

/** A worker started on a file URL loses its query (Node turns it into a path); import() keeps it. */
function withQuery(url: URL, search: string): ThreadEntry {
  if (search === '') return { url };
  const href = `${url.href.split('?')[0]}${search}`;
  return { source: `import(${JSON.stringify(href)});` };
}

async function bundleOf(file: URL): Promise<string> {
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
    // Each thread parses and evaluates the whole bundle before its first line: minified, it is
    // half the size (about 85 KB, most of it zod/mini); names stay, for stack traces.
    minify: true,
    keepNames: true,
    // A CommonJS dependency that requires a Node module needs `require` in an ES module; a
    // data: URL cannot anchor one, the source file can.
    banner: { js: `import { createRequire as __countersignRequire } from 'node:module'; const require = __countersignRequire(${JSON.stringify(path)});` },
  });
  return result.outputFiles[0]!.text;
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
