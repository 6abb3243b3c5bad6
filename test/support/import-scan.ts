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
  // Lines come from a parsed source file: TypeScript's public API has no line map without one.
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName, pos }) => {
    const line = source.getLineAndCharacterOfPosition(pos).line + 1;
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
