import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, scanImports, type ImportSite } from './support/import-scan.ts';

// The layout's rules, checked on every import of every .ts file (STYLE.md, "Tables have one room"):
// 1. Only packages/db touches tables: nobody else imports Prisma, pg or db's internal files.
// 2. packages/core does no I/O: it imports only pure libraries; the rest comes through ports.
// 3. Dependencies point one way: apps → modules → packages. No app imports another app, no
//    module an app, no package an app or a module; and no one reaches into another
//    workspace's files instead of importing its package.
//
// Tests (test/**, a workspace's test/ folder, *.test.ts) are cross-app by nature, and many look
// at what is really in the tables (counts, the append-only trigger, rows another process wrote),
// so they may use raw Prisma (`@countersign/db/testing`) and pg. Everything else holds for them:
// no reaching into packages/db's files.

const ROOT = path.resolve(import.meta.dirname, '..');
const SCANNED = ['apps', 'modules', 'packages', 'test', 'infra', 'examples'];

type Layer = 'app' | 'module' | 'package';
interface Workspace {
  dir: string;
  name: string;
  layer: Layer;
}

const LAYER_OF: Record<string, Layer> = { apps: 'app', modules: 'module', packages: 'package' };

function workspaces(): Workspace[] {
  return Object.entries(LAYER_OF).flatMap(([folder, layer]) =>
    fs
      .readdirSync(path.join(ROOT, folder), { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(ROOT, folder, d.name, 'package.json')))
      .map((d) => {
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, folder, d.name, 'package.json'), 'utf8')) as { name: string };
        return { dir: `${folder}/${d.name}`, name: manifest.name, layer };
      }),
  );
}

/** Raw database drivers and Prisma's packages: packages/db's alone. */
const DATABASE_DRIVER = /^(@prisma\/.+|prisma|pg|pg-.+|postgres)$/;
/** `@countersign/db` entries (package.json exports) and who may use them besides the package entry. */
const DB_SUBPATHS: Record<string, 'everyone' | 'tests'> = { migrate: 'everyone', testing: 'tests' };
/** What core may import: pure libraries. Storage, queues, HTTP, chat SDKs, files and sockets come in through ports. */
const CORE_ALLOWED = new Set(['@countersign/contracts', '@countersign/policy', '@countersign/evidence', '@countersign/directory', 'zod', 'node:crypto']);
/**
 * devstack runs the embedded Postgres server and creates and drops whole databases for
 * `npm start` and the test run: it needs pg to talk to the server, never to a table.
 */
const DRIVER_ALLOWED_IN = ['packages/devstack/'];
/**
 * The SDK is published: its package entry is its build (dist/), which a fresh checkout lacks, so
 * workspaces import its source entry, each through one `countersign-sdk.ts` line. Its entry
 * only, never a file behind it.
 */
const SOURCE_ENTRIES = new Set(['packages/sdk/src/index.ts']);

const isTestFile = (file: string) => file.startsWith('test/') || /(^|\/)test\//.test(file) || /\.test\.[cm]?tsx?$/.test(file);

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function violationsOf(sites: ImportSite[], spaces: Workspace[]): string[] {
  const byName = new Map(spaces.map((w) => [w.name, w]));
  const owner = (file: string) => spaces.find((w) => file.startsWith(`${w.dir}/`));
  const out: string[] = [];
  for (const site of sites) {
    const { file, specifier, target } = site;
    const report = (why: string) => out.push(`${file}:${site.line}  '${specifier}'  ${why}`);
    const test = isTestFile(file);
    const bare = target === undefined && !specifier.startsWith('/');
    const pkg = bare ? packageOf(specifier) : undefined;
    const from = owner(file);
    const to = target !== undefined ? owner(target) : pkg ? byName.get(pkg) : undefined;

    // 1. Tables have one room.
    if (!file.startsWith('packages/db/')) {
      if (pkg && DATABASE_DRIVER.test(pkg) && !test && !DRIVER_ALLOWED_IN.some((dir) => file.startsWith(dir))) {
        report('imports a database driver: only packages/db touches tables (add a repository there and a port in core)');
      }
      if (target?.startsWith('packages/db/')) report("reaches into packages/db's files: import @countersign/db");
      if (pkg === '@countersign/db' && specifier !== pkg) {
        const allowed = DB_SUBPATHS[specifier.slice(pkg.length + 1)];
        if (!allowed || (allowed === 'tests' && !test)) report(`imports @countersign/db internals: use the package entry${test ? '' : ' (or /migrate)'}`);
      }
    }

    // 2. Core does no I/O.
    if (file.startsWith('packages/core/src/')) {
      if (pkg && !CORE_ALLOWED.has(pkg)) report(`core imports '${pkg}': core stays free of I/O (allowed: ${[...CORE_ALLOWED].join(', ')}); add a port`);
      if (target !== undefined && !target.startsWith('packages/core/')) report('core reaches outside packages/core');
    }

    // 3. Dependencies point one way (tests are cross-app by nature).
    if (!test && from && to && from !== to) {
      if (from.layer === 'app' && to.layer === 'app') report(`an app imports another app (${to.dir}): share it through a package`);
      if (from.layer === 'module' && to.layer === 'app') report(`a module imports an app (${to.dir}): modules are composed by apps, never the reverse`);
      if (from.layer === 'package' && to.layer !== 'package') report(`a package imports ${to.layer === 'app' ? 'an app' : 'a module'} (${to.dir}): packages sit below apps and modules`);
      if (target !== undefined && !SOURCE_ENTRIES.has(target)) report(`reaches into ${to.dir}'s files: import ${to.name}`);
    }
  }
  return out;
}

describe('architecture', () => {
  const spaces = workspaces();

  it('every import of every .ts file keeps the layout (tables in db, core free of I/O, apps → modules → packages)', () => {
    const { files, imports } = scanImports(ROOT, SCANNED);
    // A walker that found nothing would pass vacuously.
    expect(files.length).toBeGreaterThan(300);
    expect(files).toContain('apps/server/src/service.ts');
    expect(imports.length).toBeGreaterThan(1000);
    expect(violationsOf(imports, spaces)).toEqual([]);
  });

  it("packages/db's entry hands out repositories, never the Prisma client (that is `@countersign/db/testing`, for tests)", () => {
    const entry = fs.readFileSync(path.join(ROOT, 'packages/db/src/index.ts'), 'utf8');
    expect(entry).not.toMatch(/\bPrismaClient\b|createPrismaClient|generated\//);
  });

  it('reports each kind of violation with file:line', () => {
    const source = (file: string, ...specifiers: string[]) => importsOf(file, specifiers.map((s) => `import x from '${s}';`).join('\n'));
    const found = violationsOf(
      [
        ...source('modules/teams/src/leak.ts', '@countersign/core', '@prisma/client'),
        ...source('modules/delivery/src/leak.ts', 'pg', '@prisma/adapter-pg', '@countersign/db/src/gate-tx.ts', '../../../packages/db/src/generated/prisma/client.ts'),
        ...source('apps/server/src/leak.ts', '@countersign/db/testing', '@countersign/db/migrate', '@countersign/db'),
        ...source('packages/core/src/leak.ts', 'fastify', 'node:fs', 'ioredis', '@slack/web-api', 'zod', './ports.ts', '../../db/src/index.ts'),
        ...source('apps/cli/src/leak.ts', '@countersign/server', '../../server/src/config-view.ts', '@countersign/delivery'),
        ...source('modules/worker/src/leak.ts', '@countersign/server/config-view'),
        ...source('packages/queue/src/leak.ts', '@countersign/slack'),
        ...source('modules/slack/src/fine.ts', '../../../packages/sdk/src/index.ts'),
        ...source('modules/slack/src/leak.ts', '../../../packages/sdk/src/http.ts'),
        ...source('test/leak.test.ts', 'pg', '@countersign/db/testing', '@countersign/server', '../packages/db/src/client.ts'),
        ...source('packages/db/src/fine.ts', '@prisma/client', 'pg', './generated/prisma/client.ts'),
        ...source('packages/devstack/src/fine.ts', 'pg'),
      ],
      spaces,
    );
    const at = (where: string) => found.filter((v) => v.startsWith(`${where} `));
    expect(at('modules/teams/src/leak.ts:1')).toEqual([]);
    expect(at('modules/teams/src/leak.ts:2')).toHaveLength(1);
    for (const line of [1, 2, 3, 4]) expect(at(`modules/delivery/src/leak.ts:${line}`), `delivery line ${line}`).not.toEqual([]);
    expect(at('apps/server/src/leak.ts:1')).toHaveLength(1);
    expect(found.filter((v) => v.startsWith('apps/server/src/leak.ts:') && !v.startsWith('apps/server/src/leak.ts:1 '))).toEqual([]);
    for (const line of [1, 2, 3, 4, 7]) expect(at(`packages/core/src/leak.ts:${line}`), `core line ${line}`).not.toEqual([]);
    expect(at('packages/core/src/leak.ts:5')).toEqual([]);
    expect(at('packages/core/src/leak.ts:6')).toEqual([]);
    expect(at('apps/cli/src/leak.ts:1')[0]).toMatch(/an app imports another app/);
    expect(at('apps/cli/src/leak.ts:2').join()).toMatch(/an app imports another app.*reaches into apps\/server's files/);
    expect(at('apps/cli/src/leak.ts:3')).toEqual([]);
    expect(at('modules/worker/src/leak.ts:1')[0]).toMatch(/a module imports an app/);
    expect(at('packages/queue/src/leak.ts:1')[0]).toMatch(/a package imports a module/);
    expect(at('modules/slack/src/leak.ts:1')[0]).toMatch(/reaches into packages\/sdk's files/);
    expect(found.filter((v) => v.startsWith('test/leak.test.ts:'))).toEqual([
      "test/leak.test.ts:4  '../packages/db/src/client.ts'  reaches into packages/db's files: import @countersign/db",
    ]);
    expect(found.filter((v) => v.includes('/fine.ts:'))).toEqual([]);
  });
});
