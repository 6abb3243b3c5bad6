import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../src/load-mapping.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const LOAD_MAPPING = pathToFileURL(path.resolve(import.meta.dirname, '..', 'src', 'load-mapping.ts')).href;

/** The RegExp version globMatcher replaced: the semantics to keep, without its backtracking. */
function oldGlobMatcher(pattern: string): (name: string) => boolean {
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\/-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

const PATTERN_ALPHABET = ['a', '_', '*', '?', '\n', '\r', 'é', '\u2028'];
const NAME_ALPHABET = ['a', '_', '\n', '\r', 'é', '\u2028'];

function* strings(alphabet: readonly string[], maxLength: number): Generator<string> {
  let level = [''];
  yield '';
  for (let length = 1; length <= maxLength; length++) {
    const next: string[] = [];
    for (const prefix of level) for (const c of alphabet) next.push(prefix + c);
    yield* next;
    level = next;
  }
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

describe('globMatcher', () => {
  it('agrees with the old RegExp on every pattern up to 3 and name up to 4 characters', () => {
    const names = [...strings(NAME_ALPHABET, 4)];
    let checked = 0;
    let matched = 0;
    for (const pattern of strings(PATTERN_ALPHABET, 3)) {
      const expected = oldGlobMatcher(pattern);
      const actual = globMatcher(pattern);
      for (const name of names) {
        const want = expected(name);
        if (actual(name) !== want) expect({ pattern, name, match: actual(name) }).toEqual({ pattern, name, match: want });
        checked++;
        if (want) matched++;
      }
    }
    expect(names.length).toBe(1555); // 1 + 6 + 36 + 216 + 1296
    expect(checked).toBe(585 * 1555); // patterns: 1 + 8 + 64 + 512
    expect(matched).toBeGreaterThan(1000);
  });

  it('agrees with the old RegExp on random patterns and names up to 6 characters', () => {
    const next = random(20240611);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    const randomString = (alphabet: readonly string[], max: number) =>
      Array.from({ length: Math.floor(next() * (max + 1)) }, () => pick(alphabet)).join('');
    let checked = 0;
    let matched = 0;
    for (let i = 0; i < 100_000; i++) {
      const pattern = randomString(PATTERN_ALPHABET, 6);
      // Half the names are built from the pattern (each * a random run, each ? one character),
      // so that many cases match; a run may hold a line terminator, which must not match.
      const name =
        i % 2 === 0
          ? randomString(NAME_ALPHABET, 6)
          : [...pattern].map((c) => (c === '*' ? randomString(NAME_ALPHABET, 3) : c === '?' ? pick(NAME_ALPHABET) : c)).join('');
      const want = oldGlobMatcher(pattern)(name);
      const got = globMatcher(pattern)(name);
      if (got !== want) expect({ pattern, name, match: got }).toEqual({ pattern, name, match: want });
      checked++;
      if (want) matched++;
    }
    expect(checked).toBe(100_000);
    expect(matched).toBeGreaterThan(10_000);
  });

  it('keeps literal characters literal, including RegExp syntax', () => {
    expect(globMatcher('a.c')('abc')).toBe(false);
    expect(globMatcher('a.c?')('a.cd')).toBe(true);
    expect(globMatcher('a/b-*')('a/b-c')).toBe(true);
    expect(globMatcher('*x')('yx\n')).toBe(false);
    expect(globMatcher('*')('')).toBe(true);
    expect(globMatcher('?')('')).toBe(false);
  });

  // In a child process: a matcher that backtracks hangs synchronously, which no in-process test
  // timeout can interrupt; the child is killed after 30 s and the test fails instead of hanging.
  // The old RegExp takes 1.8 s on the first case at 2,000 characters (×8 per doubling), and 0.5 s
  // on the third at 32,000 (×4 per doubling): at these sizes, hours.
  it('matches long client-supplied names in linear time', { timeout: 60_000 }, () => {
    const code = `
      const { globMatcher } = await import(${JSON.stringify(LOAD_MAPPING)});
      const results = [
        globMatcher('*_*_*_delete')('_'.repeat(200_000)),
        globMatcher('*_*_*_delete')('_'.repeat(200_000) + 'delete'),
        globMatcher('github_*_*')('github_' + '_'.repeat(1_000_000) + '\\n'),
        globMatcher('github_*_*')('github_' + '_'.repeat(1_000_000)),
      ];
      console.log(JSON.stringify(results));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual([false, true, false, true]);
  });
});
