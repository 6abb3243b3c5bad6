import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.ts';

// The SDK as npm publishes it: `npm pack` (which builds through `prepack`), the tarball
// installed into an empty project outside the repository (its dependencies, jose and
// canonicalize, from the npm cache or registry), a TypeScript consumer type-checked against
// it, and a plain-Node script run against a real service.
//
// It packs a copy of packages/sdk: `prepack` empties dist/ before building, and other test
// files (test/sdk-examples.test.ts) read packages/sdk/dist while they run.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const SDK = path.join(ROOT, 'packages', 'sdk');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let t: TestService | undefined;
let work = '';
let tarball = '';
let packedFiles: string[] = [];
let consumer = '';
let statusBefore = '';

// What packing could change (sources are left out: other work may edit them meanwhile).
const gitStatus = async () =>
  (await run('git', ['status', '--porcelain', '--untracked-files=all', '--', 'packages/sdk', 'LICENSE'], { cwd: ROOT })).stdout
    .split('\n')
    .filter((line) => !/ packages\/sdk\/(src|test)\//.test(line))
    .join('\n');

beforeAll(async () => {
  statusBefore = await gitStatus();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-sdk-pack-'));
  // The package with what its build needs around it: the base tsconfig it extends and the
  // repository's node_modules (tsc, and jose's and canonicalize's types).
  const copy = path.join(work, 'packages', 'sdk');
  fs.cpSync(SDK, copy, { recursive: true, filter: (src) => !/[\\/](dist|node_modules)$/.test(src) });
  fs.copyFileSync(path.join(ROOT, 'tsconfig.base.json'), path.join(work, 'tsconfig.base.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  const packed = await run(NPM, ['pack', '--json', '--pack-destination', out], { cwd: copy, maxBuffer: 16 * 1024 * 1024 });
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(out, info!.filename);
  packedFiles = info!.files.map((f) => f.path).sort();

  consumer = path.join(work, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }, null, 2));
  // The tarball itself, never the workspace; a TypeScript user also has Node's types.
  await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, '@types/node@^20.19.0'], {
    cwd: consumer,
    maxBuffer: 16 * 1024 * 1024,
  });
  t = await startTestService();
}, 600_000);

afterAll(async () => {
  await t?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('npm pack of @countersign/sdk', () => {
  it('builds the JavaScript and declarations into the tarball, with the license, and nothing else', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/client.js', 'dist/release.d.ts']));
    for (const file of packedFiles) expect(file, file).toMatch(/^(LICENSE|README\.md|package\.json|dist\/[a-z-]+\.(js|d\.ts))$/);
  });

  it('declares how it is published, with the root license', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(SDK, 'package.json'), 'utf8'));
    expect(manifest.private).toBeUndefined();
    expect(manifest.publishConfig).toEqual({ access: 'public' });
    expect(manifest.scripts.prepack).toMatch(/npm run build$/);
    expect(manifest.license).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).license);
    expect(manifest.license).toBe('Apache-2.0');
    const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(fs.readFileSync(path.join(SDK, 'LICENSE'), 'utf8')).toBe(license);
    // Its declarations import node:crypto's types: @types/node is declared (optional peer: a
    // TypeScript user has it, a JavaScript user needs nothing).
    expect(fs.readFileSync(path.join(consumer, 'node_modules', '@countersign', 'sdk', 'dist', 'release.d.ts'), 'utf8')).toContain("from 'node:crypto'");
    expect(manifest.peerDependencies).toEqual({ '@types/node': '>=20' });
    expect(manifest.peerDependenciesMeta).toEqual({ '@types/node': { optional: true } });
  });

  it('installs from the tarball alone: its own files, its two dependencies, no workspace link', () => {
    const installed = path.join(consumer, 'node_modules', '@countersign', 'sdk');
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'));
    for (const dep of ['jose', 'canonicalize']) expect(fs.existsSync(path.join(consumer, 'node_modules', dep, 'package.json')), dep).toBe(true);
    expect(fs.readdirSync(path.join(consumer, 'node_modules', '@countersign'))).toEqual(['sdk']);
  });

  it('type-checks a TypeScript consumer against the published declarations (skipLibCheck off)', async () => {
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }),
    );
    fs.writeFileSync(
      path.join(consumer, 'consumer.ts'),
      [
        "import { Countersign, createReleaseVerifier, RefusedError, type Authorization, type ReleaseClaims } from '@countersign/sdk';",
        "const cs = new Countersign({ baseUrl: 'https://countersign.example.com', apiKey: 'cs_x' });",
        "export async function pay(): Promise<ReleaseClaims> {",
        "  const intent = { action: { type: 'payment.send', resource: 'acct/1' } };",
        '  const granted: Authorization = await cs.authorize(intent, { timeout: 1000 });',
        "  const verifier = createReleaseVerifier({ jwksUrl: 'https://countersign.example.com/.well-known/jwks.json', audience: 'countersign-release' });",
        '  return verifier.verify(granted.releaseToken, { intent });',
        '}',
        'export const isRefusal = (e: unknown): boolean => e instanceof RefusedError;',
        '',
      ].join('\n'),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', consumer], { cwd: consumer }).catch((e: { stdout: string }) => e);
    expect((result as { stdout: string }).stdout).toBe('');
  }, 120_000);

  it('a plain Node script gets a release token, verifies it against the JWKS, redeems it once and is refused without a ticket', async () => {
    fs.writeFileSync(
      path.join(consumer, 'script.mjs'),
      `import { Countersign, createReleaseVerifier, RefusedError, ApiError } from '@countersign/sdk';
const agent = new Countersign({ baseUrl: process.env.CS, apiKey: process.env.AGENT });
const downstream = new Countersign({ baseUrl: process.env.CS, apiKey: process.env.DOWNSTREAM });
const intent = { action: { type: 'payment.send', resource: 'acct/42', params: { amount: 10 } }, authority: { changeTicket: 'CHG-7' } };
const granted = await agent.authorize(intent, { timeout: 10000 });
const verifier = createReleaseVerifier({ jwksUrl: process.env.CS + '/.well-known/jwks.json', audience: 'countersign-release' });
const claims = await verifier.verify(granted.releaseToken, { intent });
const redemption = await downstream.redeemRelease(granted.releaseToken, { intent });
const again = await downstream.redeemRelease(granted.releaseToken, { intent }).catch((e) => e);
const refused = await agent.authorize({ action: { type: 'payment.send', resource: 'acct/42' } }, { timeout: 10000 }).catch((e) => e);
console.log(JSON.stringify({
  status: granted.action.status,
  claimsAction: claims.actionId === granted.action.id,
  redeemed: redemption.actionId === granted.action.id,
  again: again instanceof ApiError ? again.code : String(again),
  refused: refused instanceof RefusedError ? refused.status : String(refused),
}));
`,
    );
    const { stdout } = await run(process.execPath, ['script.mjs'], {
      cwd: consumer,
      env: { PATH: process.env.PATH ?? '', CS: t!.url, AGENT: t!.tokens['deploy-bot']!, DOWNSTREAM: t!.tokens.grace! },
    });
    expect(JSON.parse(stdout)).toEqual({ status: 'approved', claimsAction: true, redeemed: true, again: 'already_redeemed', refused: 'refused' });
  }, 60_000);

  it('leaves the repository as it was: packages/sdk/dist is ignored and nothing is left behind', async () => {
    expect(await gitStatus()).toBe(statusBefore);
    expect((await run('git', ['ls-files', 'packages/sdk/dist'], { cwd: ROOT })).stdout).toBe('');
    await expect(run('git', ['check-ignore', '-q', 'packages/sdk/dist/index.js'], { cwd: ROOT })).resolves.toBeDefined();
    expect(fs.readdirSync(SDK).filter((f) => f.endsWith('.tgz'))).toEqual([]);
  });
});
