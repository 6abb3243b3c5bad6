import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DomainError } from '@countersign/contracts';
import { Keyring } from './keyring.ts';
import { generateSigningKey, privateKeyPem, signingKeyFromPem, type SigningKey } from './keys.ts';
import { pemBlocks } from './pem.ts';

/** Where keys live when neither COUNTERSIGN_SIGNING_KEY nor a PEM file is configured. */
export const DEFAULT_KEY_DIR = '.countersign/keys';
const ACTIVE_FILE = 'active';

export interface LoadKeyringOptions {
  /** PEM text (e.g. the COUNTERSIGN_SIGNING_KEY env var): PKCS#8 keys, first one active. */
  pem?: string;
  /** A file holding the same. */
  pemFile?: string;
  /** A key directory (default `.countersign/keys`): `<keyId>.pem` files + an `active` file. */
  dir?: string;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
  /** Generate the first key when the directory holds none (default true). */
  create?: boolean;
}

/**
 * Load the signing keys. Precedence: `pem`, then `pemFile`, then `dir`. A configured but
 * empty or unreadable source is an error, never a reason to fall back to a generated key:
 * signing with an unexpected key would produce evidence nobody can verify.
 */
export function loadKeyring(opts: LoadKeyringOptions = {}): Keyring {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.pem !== undefined) return keyringFromPem(opts.pem, 'the signing key PEM');
  if (opts.pemFile !== undefined) {
    const file = resolve(cwd, opts.pemFile);
    return keyringFromPem(readText(file), file);
  }
  return loadKeyDir(resolve(cwd, opts.dir ?? DEFAULT_KEY_DIR), opts.create ?? true);
}

/** Several PKCS#8 keys concatenated: the first signs, the others only verify (rotation). */
export function keyringFromPem(text: string, source: string): Keyring {
  let blocks;
  try {
    blocks = pemBlocks(text);
  } catch {
    throw new DomainError('internal', `${source} holds no PEM private key`);
  }
  const keys = blocks.map((block, i) => {
    if (block.label !== 'PRIVATE KEY') {
      throw new DomainError('internal', `${source}: block ${i + 1} is "${block.label}", expected an unencrypted PKCS#8 "PRIVATE KEY"`);
    }
    return signingKeyFromPem(block.pem);
  });
  return new Keyring(keys);
}

/** Generate a new key in `dir` and make it active; older keys stay for verification. */
export function rotateKey(dir: string): SigningKey {
  ensureDir(dir);
  const key = writeNewKey(dir);
  // Write-then-rename so a concurrent reader sees the old or the new id, never a torn file.
  const tmp = join(dir, `.${ACTIVE_FILE}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${key.keyId}\n`, { mode: 0o600 });
  renameSync(tmp, join(dir, ACTIVE_FILE));
  return key;
}

function loadKeyDir(dir: string, create: boolean): Keyring {
  const activeFile = join(dir, ACTIVE_FILE);
  if (!existsSync(activeFile)) {
    if (!create) throw new DomainError('internal', `no signing key in ${dir} (no "${ACTIVE_FILE}" file)`);
    initialiseDir(dir);
  }
  const activeId = readText(activeFile).trim();
  const keys = readdirSync(dir)
    .filter((name) => name.endsWith('.pem'))
    .sort()
    .map((name) => {
      const key = signingKeyFromPem(readText(join(dir, name)));
      // The file name is the key id; a mismatch means someone copied keys around by hand.
      if (`${key.keyId}.pem` !== name) {
        throw new DomainError('internal', `${join(dir, name)} holds key ${key.keyId}; rename it to ${key.keyId}.pem`);
      }
      return key;
    });
  const active = keys.find((key) => key.keyId === activeId);
  if (!active) throw new DomainError('internal', `${activeFile} names ${activeId || '(nothing)'}, which is not a key in ${dir}`);
  return new Keyring([active, ...keys.filter((key) => key !== active)]);
}

/**
 * First use: create the directory and one key. Two processes may start at once (api and
 * worker roles); the `active` file is created with link(2), which fails if it exists, so
 * exactly one key wins and the loser discards its own unused key.
 */
function initialiseDir(dir: string): void {
  ensureDir(dir);
  const key = writeNewKey(dir);
  const tmp = join(dir, `.${ACTIVE_FILE}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${key.keyId}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, join(dir, ACTIVE_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    unlinkSync(join(dir, `${key.keyId}.pem`));
  } finally {
    unlinkSync(tmp);
  }
}

function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

function writeNewKey(dir: string): SigningKey {
  const key = generateSigningKey();
  writeFileSync(join(dir, `${key.keyId}.pem`), privateKeyPem(key), { mode: 0o600, flag: 'wx' });
  return key;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DomainError('internal', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
