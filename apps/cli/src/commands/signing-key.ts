import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { keysDir } from '@countersign/config';
import { DEFAULT_KEY_DIR, loadKeyring, publicKeyPem, rotateKey, type Keyring } from '@countersign/evidence';
import type { CliContext } from '../registry.ts';
import { parseCli } from '../args.ts';
import { shownError, shownLine, terminalJson } from '../terminal.ts';

const USAGE = `usage:
  countersign signing-key rotate [--dir DIR]              new active key; old keys stay, for verification only
  countersign signing-key public [--dir DIR] [--all] [--jwks]
                                                          the active public key as PEM (--all: every key)
DIR defaults to $COUNTERSIGN_KEYS_DIR, else keys/ in the state folder (${DEFAULT_KEY_DIR}, or
$COUNTERSIGN_STATE_DIR/keys). Without --dir, "public" reads
$COUNTERSIGN_SIGNING_KEY / $COUNTERSIGN_SIGNING_KEY_FILE first, like the server does.
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = {
  dir: { type: 'string' },
  all: { type: 'boolean', default: false },
  jwks: { type: 'boolean', default: false },
} as const;

/** The organisation's artifact and release-token signing keys (not API keys: see `keys`). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(args, options);
  } catch (err) {
    return usage(ctx, shownError(err));
  }
  const [sub, ...extra] = parsed.positionals;
  if (extra.length > 0) return usage(ctx, `unexpected argument ${shownLine(extra[0])}`);
  const { dir, all, jwks } = parsed.values;

  if (sub === 'rotate') {
    if (all || jwks) return usage(ctx, '--all and --jwks go with "public"');
    if (dir === undefined && (ctx.env.COUNTERSIGN_SIGNING_KEY || ctx.env.COUNTERSIGN_SIGNING_KEY_FILE)) {
      // Those keys live in the operator's secret store; writing a key file here would not rotate them.
      ctx.stderr.write(
        'countersign signing-key: keys come from COUNTERSIGN_SIGNING_KEY(_FILE), which this command cannot change.\n' +
          'Rotate there: generate a key (openssl genpkey -algorithm ed25519), put it FIRST, keep the old ones after it.\n',
      );
      return 2;
    }
    const keyDir = dir === undefined ? keysDir(ctx.env, ctx.cwd) : resolve(ctx.cwd, dir);
    let previous: string | null = null;
    try {
      // A broken key directory is reported, not papered over by rotating past it.
      if (existsSync(join(keyDir, 'active'))) previous = loadKeyring({ dir: keyDir, create: false }).active.keyId;
    } catch (err) {
      ctx.stderr.write(`countersign signing-key: ${shownError(err)}\n`);
      return 1;
    }
    const key = rotateKey(keyDir);
    ctx.stdout.write(`rotated: active signing key is now ${shownLine(key.keyId)}${previous ? ` (was ${shownLine(previous)}, kept for verification)` : ''}\n`);
    ctx.stdout.write(
      'Restart every running countersign process: the first to start seals the rotation (signing-key.rotated) before\n' +
        'signing anything with the new key; from then on the old key is retired, and a process still running it stops signing.\n' +
        'Verifiers: fetch /.well-known/jwks.json again (it marks the old key verify-only, with its last seq).\n',
    );
    return 0;
  }

  if (sub === 'public') {
    let keyring: Keyring;
    try {
      keyring = dir === undefined ? loadFromEnv(ctx) : loadKeyring({ dir: resolve(ctx.cwd, dir), create: false });
    } catch (err) {
      ctx.stderr.write(`countersign signing-key: ${shownError(err)}\n`);
      return 1;
    }
    if (jwks) {
      const set = keyring.jwks();
      ctx.stdout.write(`${terminalJson(all ? set : { keys: set.keys.slice(0, 1) }, 2)}\n`);
    } else {
      for (const key of all ? keyring.all() : [keyring.active]) ctx.stdout.write(publicKeyPem(key));
    }
    return 0;
  }

  return usage(ctx, sub ? `unknown subcommand ${shownLine(sub)}` : 'a subcommand is required');
}

// Same precedence as the server (apps/cli/src/engine.ts), but never creates a key: printing
// a public key for a key nobody uses would mislead the verifier.
function loadFromEnv(ctx: CliContext): Keyring {
  return loadKeyring({
    pem: ctx.env.COUNTERSIGN_SIGNING_KEY,
    pemFile: ctx.env.COUNTERSIGN_SIGNING_KEY_FILE,
    dir: keysDir(ctx.env, ctx.cwd),
    cwd: ctx.cwd,
    create: false,
  });
}

function usage(ctx: CliContext, message: string): number {
  ctx.stderr.write(`countersign signing-key: ${message}\n${USAGE}`);
  return 2;
}

/** Shown by `countersign signing-key --help`. */
export { USAGE as usage };
