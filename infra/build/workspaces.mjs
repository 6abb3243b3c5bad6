// The workspace packages as the build sees them: where each lives, and which source file each
// of its exports stands for. Dependency-free (node: only), like infra/dev.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** name → { name, dir (relative to the repository, forward slashes), manifest } */
export function readWorkspaces(repoRoot) {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const byName = new Map();
  for (const pattern of root.workspaces ?? []) {
    // Only the "group/*" form is used here; anything else is a mistake worth hearing about.
    const match = /^([\w.-]+)\/\*$/.exec(pattern);
    if (!match) throw new Error(`unsupported workspaces pattern ${pattern}: expected "<folder>/*"`);
    const group = join(repoRoot, match[1]);
    if (!existsSync(group)) continue;
    for (const entry of readdirSync(group, { withFileTypes: true })) {
      const manifestPath = join(group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      byName.set(manifest.name, { name: manifest.name, dir: `${match[1]}/${entry.name}`, manifest });
    }
  }
  return byName;
}

/** "./src/x.ts" for an export target, whatever form it takes; undefined when it has none. */
export function sourceOf(target, workspaceDir) {
  if (typeof target === 'string') {
    if (/\.(c|m)?ts$/.test(target) && !target.endsWith('.d.ts')) return target;
    // A package published from its own build (the SDK: ./dist/x.js) is compiled here from the
    // source beside it, so the service never depends on a build it did not make.
    const built = /^\.\/dist\/(.+)\.js$/.exec(target);
    if (built && existsSync(join(workspaceDir, 'src', `${built[1]}.ts`))) return `./src/${built[1]}.ts`;
    return undefined;
  }
  if (target && typeof target === 'object') {
    const conditions = Object.entries(target).filter(([condition]) => condition !== 'types');
    // Source conditions first ("source", "development"), then whatever Node itself would take.
    conditions.sort(([a], [b]) => rank(a) - rank(b));
    for (const [, value] of conditions) {
      const source = sourceOf(value, workspaceDir);
      if (source) return source;
    }
  }
  return undefined;
}

function rank(condition) {
  return ['source', 'development', 'import', 'node', 'default'].indexOf(condition) >>> 0;
}

/** Subpath ("." or "./x") → export target, for either form of `exports`. */
export function exportEntries(manifest) {
  const exports = manifest.exports;
  if (exports === undefined) return [];
  if (typeof exports === 'string' || !Object.keys(exports).every((key) => key.startsWith('.'))) return [['.', exports]];
  return Object.entries(exports);
}

/** Splits "@scope/name/sub/path" into the package name and the export subpath ("." or "./sub/path"). */
export function splitSpecifier(specifier) {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const rest = parts.slice(nameLength).join('/');
  return { name, subpath: rest ? `./${rest}` : '.' };
}
