import type { CliContext } from '../registry.ts';
import { openEngine } from '../engine.ts';
import { parseCli } from '../args.ts';
import { parseDelegationScope } from '@countersign/core';
import { shownLine, terminalJson } from '../terminal.ts';

const USAGE = `usage:
  countersign keys create --principal ID [--delegate --for ID,role:ROLE,…] [--label TEXT]
  countersign keys list
  countersign keys revoke KEY_ID_OR_PREFIX        one key per run
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = {
  principal: { type: 'string' },
  delegate: { type: 'boolean', default: false },
  for: { type: 'string' },
  label: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** API keys: created for a directory principal, shown once, stored hashed, revocable. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(args, options);
  } catch (err) {
    ctx.stderr.write(`${shownLine((err as Error).message)}\n${USAGE}`);
    return 2;
  }
  const [sub, target, ...rest] = parsed.positionals;
  // One key per revoke: `keys revoke A B` used to revoke A, say so, exit 0 and leave B working.
  const extra = sub === 'revoke' ? rest : parsed.positionals.slice(1);
  if ((sub === 'create' || sub === 'list' || sub === 'revoke') && extra.length > 0) {
    ctx.stderr.write(`unexpected argument "${shownLine(extra[0])}"${sub === 'revoke' ? ': revoke one key at a time (nothing was revoked)' : ''}\n${USAGE}`);
    return 2;
  }
  if (sub === 'create' && !parsed.values.principal) {
    ctx.stderr.write(`--principal is required\n${USAGE}`);
    return 2;
  }
  // Fail closed: a delegate key without --for would act for nobody, and one with --for but no
  // --delegate says something the key cannot do; both are refused before anything is created.
  let delegateFor: string[] | undefined;
  if (sub === 'create' && (parsed.values.delegate || parsed.values.for !== undefined)) {
    if (!parsed.values.delegate || parsed.values.for === undefined) {
      ctx.stderr.write(`--delegate and --for go together: name whom the key may act for (people ids or role:ROLE)\n${USAGE}`);
      return 2;
    }
    try {
      delegateFor = parseDelegationScope(parsed.values.for);
    } catch (err) {
      ctx.stderr.write(`${shownLine((err as Error).message)}\n${USAGE}`);
      return 2;
    }
  }
  if (sub !== 'create' && sub !== 'list' && !(sub === 'revoke' && target)) {
    ctx.stderr.write(USAGE);
    return 2;
  }
  const engine = openEngine(ctx);
  try {
    if (sub === 'create') {
      const { token, key } = await engine.keys.create(parsed.values.principal!, {
        canDelegate: parsed.values.delegate,
        ...(delegateFor ? { delegateFor } : {}),
        label: parsed.values.label,
      });
      if (parsed.values.json) {
        ctx.stdout.write(terminalJson({ id: key.id, prefix: key.prefix, principalId: key.principalId, delegateFor: key.delegateFor, token }) + '\n');
      } else {
        ctx.stdout.write(`created ${shownLine(key.id)} (${shownLine(key.prefix)}) for ${shownLine(key.principalKind)} ${shownLine(key.principalId)}${key.canDelegate ? `, may act for ${key.delegateFor.map(shownLine).join(', ')}` : ''}\n`);
        ctx.stdout.write(`\n  ${token}\n\nThis is the only time the key is shown; store it now.\n`);
      }
      return 0;
    }
    if (sub === 'list') {
      for (const k of await engine.keys.list()) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
        const used = k.lastUsedAt ? k.lastUsedAt.toISOString() : 'never';
        // Labels are whoever created the key's words; ids and roles come from the directory file.
        ctx.stdout.write(`${shownLine(k.id)}  ${shownLine(k.prefix)}  ${shownLine(k.principalKind)}:${shownLine(k.principalId)}  ${state}  last used ${used}${k.canDelegate ? `  for ${k.delegateFor.map(shownLine).join(',') || '(nobody: re-issue with --for)'}` : ''}${k.label ? `  "${shownLine(k.label)}"` : ''}\n`);
      }
      return 0;
    }
    const revoked = await engine.keys.revoke(target!);
    ctx.stdout.write(revoked ? `revoked ${shownLine(target)}\n` : `${shownLine(target)} was already revoked\n`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** Shown by `countersign keys --help`. */
export { USAGE as usage };
