import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, publicJwk, publicKeyPem } from '../src/index.ts';
import { jsonlLines, sealChain } from './factories.ts';

// Third-party verification with stock OpenSSL 3, exactly as the README recipe does it
// (the recipe uses jq to pull fields; node stands in for jq here so the test needs only openssl).

const key = generateSigningKey();
const lines = jsonlLines(sealChain(3, key));
let dir = '';

function openssl(...args: string[]): { status: number | null; out: string } {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** `jq -j .canonical rec.json > body.json` and `jq -r .signature rec.json | base64 -d > sig.bin` */
function extract(line: string): { hash?: string } {
  const rec = JSON.parse(line) as { canonical: string; signature: string; hash?: string };
  writeFileSync(join(dir, 'body.json'), rec.canonical);
  writeFileSync(join(dir, 'sig.bin'), Buffer.from(rec.signature, 'base64'));
  return rec;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-openssl-'));
  writeFileSync(join(dir, 'pub.pem'), publicKeyPem(key));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenSSL interop', () => {
  it('runs OpenSSL 3 (pkeyutl -rawin needs it)', () => {
    expect(execFileSync('openssl', ['version'], { encoding: 'utf8' })).toMatch(/^OpenSSL 3\./);
  });

  it('openssl dgst reproduces the record hash and pkeyutl verifies the signature', () => {
    for (const line of lines.slice(0, 3)) {
      const { hash } = extract(line);
      const dgst = openssl('dgst', '-sha256', '-r', 'body.json');
      expect(dgst.status).toBe(0);
      expect(dgst.out.split(' ')[0]).toBe(hash);
      const verify = openssl('pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'body.json', '-sigfile', 'sig.bin');
      expect(verify.out).toContain('Signature Verified Successfully');
      expect(verify.status).toBe(0);
    }
  });

  it('pkeyutl refuses the signature after a one-byte edit of the body', () => {
    extract(lines[1]!);
    const body = readFileSync(join(dir, 'body.json'));
    const at = body.indexOf('"seq":2') + 6;
    body[at] = '3'.charCodeAt(0);
    writeFileSync(join(dir, 'body.json'), body);
    const verify = openssl('pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'body.json', '-sigfile', 'sig.bin');
    expect(verify.out).toContain('Signature Verification Failure');
    expect(verify.status).not.toBe(0);
  });

  it('verifies the export trailer the same way', () => {
    extract(lines.at(-1)!);
    const verify = openssl('pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'body.json', '-sigfile', 'sig.bin');
    expect(verify.status).toBe(0);
  });

  it('turns a JWKS entry into pub.pem with the fixed Ed25519 SPKI prefix', () => {
    const x = publicJwk(key.publicKey).x;
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(x, 'base64url')]);
    const pem = execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER'], { input: der, encoding: 'utf8' });
    expect(pem).toBe(publicKeyPem(key));
  });

  it('the key id is sha256 of the raw public key, computable from pub.pem', () => {
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', 'pub.pem', '-outform', 'DER'], { cwd: dir });
    writeFileSync(join(dir, 'raw.bin'), der.subarray(der.length - 32));
    const dgst = openssl('dgst', '-sha256', '-r', 'raw.bin');
    expect(`ed25519-${dgst.out.slice(0, 16)}`).toBe(key.keyId);
  });
});
