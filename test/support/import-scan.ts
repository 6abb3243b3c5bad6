import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// What every TypeScript file of the repository imports, for test/architecture.test.ts.
// TypeScript's own pre-processor finds the specifiers (static, `export … from`, dynamic
// `import()`, `require()`), so imports written in comments or strings never count.

export interface ImportSite {
  /** Repository-relative path, with forward slashes. */
  file: string;
  line: number;
  specifier: string;
  /** For relative specifiers: the repository-relative path it points at. */
  target?: string;
}

const SKIPPED_DIRS = new Set(['node_modules', 'generated', 'dist', '.git', '.countersign', '.turbo', 'coverage']);
const SOURCE = /\.(c|m)?tsx?$/;

/** Every .ts/.mts/.cts/.tsx file under `roots` (relative to `repoRoot`), skipping installed and generated code. */
export function sourceFiles(repoRoot: string, roots: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path.join(dir, entry.name));
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        out.push(path.relative(repoRoot, path.join(dir, entry.name)).split(path.sep).join('/'));
      }
    }
  };
  for (const root of roots) if (fs.existsSync(path.join(repoRoot, root))) walk(path.join(repoRoot, root));
  return out.sort();
}

/** The imports of one file's text. */
export function importsOf(file: string, text: string): ImportSite[] {
  const lineOf = lineNumbers(text);
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName, pos }) => {
    const line = lineOf(pos);
    const site: ImportSite = { file, line, specifier: fileName };
    if (fileName.startsWith('.')) site.target = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
    return site;
  });
}

export function scanImports(repoRoot: string, roots: string[]): { files: string[]; imports: ImportSite[] } {
  const files = sourceFiles(repoRoot, roots);
  const imports = files.flatMap((file) => importsOf(file, fs.readFileSync(path.join(repoRoot, file), 'utf8')));
  return { files, imports };
}

/**
 * The 1-based line of a position, with TypeScript's line breaks (CRLF, CR, LF, U+2028, U+2029).
 * Counted here: the public API has line lookups only on a parsed source file, and parsing every
 * file made the scan about 3.6× slower.
 */
function lineNumbers(text: string): (pos: number) => number {
  const starts = [0];
  for (const m of text.matchAll(/\r\n?|[\n\u2028\u2029]/g)) starts.push(m.index + m[0].length);
  return (pos) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
