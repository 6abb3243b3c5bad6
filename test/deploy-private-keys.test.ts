import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The deployment guides generate the signing key (an Ed25519 private key) in the checkout they
// are run from. It must land where git ignores it (or `git add .` commits it to the deployment
// repository) and where the image build never reads it (`COPY . .` in the build stage would
// keep it in the layer cache, pushed with --cache-to).

const ROOT = path.resolve(import.meta.dirname, '..');
const GUIDES = ['README.md', 'infra/k8s/README.md'];

function shellLines(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
}

describe('private keys the guides generate', () => {
  it('are written under secrets/, which git ignores', () => {
    const outputs = GUIDES.flatMap((file) =>
      shellLines(file)
        .filter((line) => /openssl genpkey\b/.test(line))
        .map((line) => ({ file, out: /-out\s+(\S+)/.exec(line)?.[1] })),
    );
    expect(outputs.map((o) => o.file)).toEqual(expect.arrayContaining(GUIDES));
    for (const { file, out } of outputs) {
      expect(out, `${file}: openssl genpkey without -out`).toBeDefined();
      expect(out, file).toMatch(/^secrets\//);
      // Exit 0: ignored (check-ignore exits 1 for a path git would track).
      execFileSync('git', ['check-ignore', '-q', out!], { cwd: ROOT });
    }
  });

  it('are never sent to the image build, wherever they were written', () => {
    const ignored = fs.readFileSync(path.join(ROOT, 'infra', 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['secrets', '*.pem', '**/*.pem', '*.key', '**/*.key']) expect(ignored).toContain(entry);
  });
});
