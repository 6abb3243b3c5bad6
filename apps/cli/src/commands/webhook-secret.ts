import { loadWebhookMaster, webhookSecretFor, webhookSecretFromFile } from '@countersign/delivery';
import { keysDir } from '@countersign/config';
import { parseCli } from '../args.ts';
import { openEngine } from '../engine.ts';
import type { CliContext } from '../registry.ts';
import { shownLine, terminalJson } from '../terminal.ts';

const USAGE = `usage:
  countersign webhook-secret KEY_ID_OR_PREFIX [--json]

Prints the secret that signs webhooks about actions submitted with that API key
(Countersign-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>).
It is derived from COUNTERSIGN_WEBHOOK_SECRET, or from the master secret the service keeps
in COUNTERSIGN_KEYS_DIR (default: keys/ in the state folder, .countersign/ or COUNTERSIGN_STATE_DIR), so it is never stored on its own.
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = { json: { type: 'boolean', default: false } } as const;

/** Tells the owner of an API key how to verify the webhooks sent for it. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(args, options);
  } catch (err) {
    ctx.stderr.write(`${shownLine((err as Error).message)}\n${USAGE}`);
    return 2;
  }
  const [target] = parsed.positionals;
  if (!target || parsed.positionals.length > 1) {
    ctx.stderr.write(USAGE);
    return 2;
  }
  const engine = openEngine(ctx);
  try {
    const key = await engine.keys.find(target);
    if (!key) {
      ctx.stderr.write(`no API key "${shownLine(target)}"\n`);
      return 1;
    }
    const master = loadWebhookMaster({
      secret: ctx.env.COUNTERSIGN_WEBHOOK_SECRET || webhookSecretFromFile(ctx.env.COUNTERSIGN_WEBHOOK_SECRET_FILE || undefined, ctx.cwd),
      keysDir: keysDir(ctx.env, ctx.cwd),
      create: false,
    });
    const secret = webhookSecretFor(master, key.id);
    if (parsed.values.json) ctx.stdout.write(terminalJson({ keyId: key.id, prefix: key.prefix, secret }) + '\n');
    else ctx.stdout.write(`webhook signing secret for ${shownLine(key.id)} (${shownLine(key.prefix)}, ${shownLine(key.principalKind)} ${shownLine(key.principalId)}):\n\n  ${secret}\n\n`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** Shown by `countersign webhook-secret --help`. */
export { USAGE as usage };
