import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DomainError } from '@countersign/contracts';
import { pemBlocks, type PemBlock } from '../src/pem.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const PEM_MODULE = pathToFileURL(path.resolve(import.meta.dirname, '..', 'src', 'pem.ts')).href;

/** The regex version pemBlocks replaced: the results to keep, without its quadratic search. */
function oldPemBlocks(text: string): PemBlock[] {
  const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  const normalised = !text.includes('\n') && text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
  const blocks: PemBlock[] = [];
  for (const match of normalised.matchAll(PEM_BLOCK)) {
    blocks.push({ label: match[1] ?? '', pem: `${match[0]}\n` });
  }
  if (blocks.length === 0) throw new DomainError('internal', 'no PEM block found');
  return blocks;
}

type Outcome = { blocks: PemBlock[] } | { error: string; code: string };

function outcome(split: (text: string) => PemBlock[], text: string): Outcome {
  try {
    return { blocks: split(text) };
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { error: err.message, code: err.code };
  }
}

function expectSame(text: string): Outcome {
  const want = outcome(oldPemBlocks, text);
  expect({ text, ...outcome(pemBlocks, text) }).toEqual({ text, ...want });
  return want;
}

/** Deterministic, so a failure reproduces (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function keyPems(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

describe('pemBlocks', () => {
  it('splits real key files as the regex did: concatenated, one-line with \\n escapes, CRLF', () => {
    const keys = [keyPems(), keyPems(), keyPems()];
    const publics = keys.map((k) => k.publicPem);
    const concatenated = publics.join('');
    const mixed = `${keys[0]!.privatePem}${publics[1]}# comment\n${keys[2]!.privatePem}`;
    const cases: Array<[string, string[]]> = [
      [publics[0]!, ['PUBLIC KEY']],
      [concatenated, ['PUBLIC KEY', 'PUBLIC KEY', 'PUBLIC KEY']],
      [`junk before\n${publics.join('\n\n')}trailing junk`, ['PUBLIC KEY', 'PUBLIC KEY', 'PUBLIC KEY']],
      [mixed, ['PRIVATE KEY', 'PUBLIC KEY', 'PRIVATE KEY']],
      [concatenated.replaceAll('\n', '\\n'), ['PUBLIC KEY', 'PUBLIC KEY', 'PUBLIC KEY']],
      [mixed.replaceAll('\n', '\\n'), ['PRIVATE KEY', 'PUBLIC KEY', 'PRIVATE KEY']],
      [concatenated.replaceAll('\n', '\r\n'), ['PUBLIC KEY', 'PUBLIC KEY', 'PUBLIC KEY']],
      [mixed.replaceAll('\n', '\r\n'), ['PRIVATE KEY', 'PUBLIC KEY', 'PRIVATE KEY']],
    ];
    for (const [text, labels] of cases) {
      const result = expectSame(text);
      expect('blocks' in result && result.blocks.map((b) => b.label)).toEqual(labels);
    }
    expect(pemBlocks(concatenated).map((b) => b.pem)).toEqual(publics);
    expect(expectSame('no key here')).toEqual({ error: 'no PEM block found', code: 'internal' });
    expect(expectSame('')).toEqual({ error: 'no PEM block found', code: 'internal' });
  });

  it('gives the regex results on random junk mixing BEGIN and END lines of different labels', () => {
    const next = random(7_4_2024);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    const labels = ['PUBLIC KEY', 'PRIVATE KEY', 'A', 'A ', 'B1', ' ', ''];
    // Each text draws its lines' labels from two, so that BEGINs often meet an END of theirs.
    const lines = [
      (label: () => string) => `-----BEGIN ${label()}-----`,
      (label: () => string) => `-----END ${label()}-----`,
      (label: () => string) => `-----BEGIN ${label()}-----`,
      (label: () => string) => `-----END ${label()}-----`,
      (label: () => string) => `-----BEGIN ${label()}----`,
      (label: () => string) => `-----END ${label()}`,
      (label: () => string) => `x-----BEGIN ${label()}-----END ${label()}-----`,
      () => pick(['MCowBQYDK2VwAyEA', '', '-----', '-', 'a-----BEGIN', 'END', '-----BEGIN -----END -----']),
    ];
    const separators = ['\n', '\n', '\r\n', '\\n', '', ' '];
    // Token soup as well, for markers cut and glued in odd places.
    const tokens = ['-----BEGIN ', '-----END ', 'PUBLIC KEY', 'A', 'B', ' ', '-----', '-', '\n', '\\n', 'x'];
    let checked = 0;
    let withBlocks = 0;
    let several = 0;
    let holdingBegin = 0; // blocks running over a later BEGIN line, skipped as matchAll does
    for (let i = 0; i < 40_000; i++) {
      const count = Math.floor(next() * 12);
      const pair = [pick(labels), pick(labels)];
      const label = () => pick(pair);
      const text =
        i % 2 === 0
          ? Array.from({ length: count }, () => pick(lines)(label) + pick(separators)).join('')
          : Array.from({ length: count * 2 }, () => pick(tokens)).join('');
      const result = expectSame(text);
      checked++;
      if ('blocks' in result) {
        withBlocks++;
        if (result.blocks.length > 1) several++;
        if (result.blocks.some((b) => b.pem.indexOf('-----BEGIN ', 1) !== -1)) holdingBegin++;
      }
    }
    expect(checked).toBe(40_000);
    expect(withBlocks).toBeGreaterThan(6_000);
    expect(several).toBeGreaterThan(1_000);
    expect(holdingBegin).toBeGreaterThan(3_000);
  });

  it('searches a number of characters linear in the text, however many BEGINs lack their END', () => {
    // Counted, not timed: the characters that String.prototype.indexOf calls on the text go over
    // (only on the text: the error thrown may be formatted with indexOf on other strings).
    const searched = (text: string) => {
      const indexOf = String.prototype.indexOf;
      let total = 0;
      let error: unknown;
      String.prototype.indexOf = function (this: string, search: string, position?: number) {
        const found = indexOf.call(this, search, position);
        if (this.length === text.length && this === text) {
          const from = Math.min(Math.max(position ?? 0, 0), this.length);
          total += (found === -1 ? this.length : found) - from + 1;
        }
        return found;
      };
      try {
        pemBlocks(text);
      } catch (err) {
        error = err;
      } finally {
        String.prototype.indexOf = indexOf;
      }
      expect(error).toEqual(new DomainError('internal', 'no PEM block found'));
      return total;
    };
    const texts = {
      same: (n: number) => '-----BEGIN PUBLIC KEY-----\n'.repeat(n),
      distinct: (n: number) => Array.from({ length: n }, (_, i) => `-----BEGIN K${i}-----\n`).join(''),
      crossed: (n: number) => '-----BEGIN A-----\n-----END B-----\n'.repeat(n),
    };
    for (const [kind, make] of Object.entries(texts)) {
      const small = searched(make(2_000));
      const large = searched(make(8_000));
      // The search must be seen at all (the regex it replaced made no indexOf call).
      expect({ kind, positive: small > 0 }).toEqual({ kind, positive: true });
      expect({ kind, ratio: large / small < 6 }).toEqual({ kind, ratio: true });
    }
  });

  // In a child process: a split that goes quadratic hangs synchronously, which no in-process test
  // timeout can interrupt; the child is killed after 30 s and the test fails instead of hanging.
  // The old regex took 2.5 s on 512 KB of BEGIN lines, ×4 per doubling: about 160 s on 4 MB.
  it('splits 4 MB of BEGIN lines without their END in linear time', { timeout: 60_000 }, () => {
    const code = `
      const { pemBlocks } = await import(${JSON.stringify(PEM_MODULE)});
      const results = [];
      const attempt = (text) => {
        try {
          const blocks = pemBlocks(text);
          results.push([blocks.length, blocks[0].label, blocks[0].pem.length]);
        } catch (err) {
          results.push(err.message);
        }
      };
      const lines = '-----BEGIN PUBLIC KEY-----\\n'.repeat(4 * 1024 * 1024 / 27);
      attempt(lines);
      attempt(Array.from({ length: 200_000 }, (_, i) => '-----BEGIN K' + i + '-----\\n').join(''));
      attempt(lines + '-----END PUBLIC KEY-----');
      console.log(JSON.stringify(results));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const lineCount = Math.floor((4 * 1024 * 1024) / 27);
    expect(JSON.parse(run.stdout)).toEqual(['no PEM block found', 'no PEM block found', [1, 'PUBLIC KEY', lineCount * 27 + 25]]);
  });
});
