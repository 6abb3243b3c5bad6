import { parseArgs } from 'node:util';
import { commandNames, loadCommand, type CliContext, type Command } from './registry.ts';
import { shownLine } from './terminal.ts';

// `countersign <command> …`: a thin dispatcher. Each command lives in commands/<name>.ts and
// returns its exit code; nothing here knows what the commands do.
export async function dispatch(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? ctx.stdout : ctx.stderr).write(`usage: countersign <command> [options]\n\ncommands:\n${commandNames().map((c) => `  ${c}`).join('\n')}\n`);
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    ctx.stderr.write(`countersign: unknown command "${shownLine(name)}" (try --help)\n`);
    return 2;
  }
  // Every command answers --help the same way, before parsing anything else.
  if (asksForHelp(args, command)) {
    ctx.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  return command.run(args, ctx);
}

/**
 * Whether `args` ask for the command's usage: --help or -h where an option stands, or `help` as
 * the first word when that word is a subcommand. Not an option's value (`--label -h`), not an
 * operand after `--`, not a file named `help` or `-h`: `verify help --key pub.pem` used to print
 * the usage and exit 0 (the status that means "verified") without reading the file.
 */
export function asksForHelp(args: string[], command: Pick<Command, 'options' | 'helpWord'>): boolean {
  if (args[0] === 'help' && command.helpWord !== false) return true;
  let tokens;
  try {
    ({ tokens } = parseArgs({ args, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true }));
  } catch {
    return false; // the command's own parsing reports what is wrong
  }
  return tokens.some((token, i) => {
    if (token.kind !== 'option' || token.name !== 'help') return false;
    if (command.options) return true;
    // A command that does not list its options: right after an unknown option with no value,
    // the flag may be that option's value; the command's own parsing decides then.
    const before = tokens[i - 1];
    return !(before?.kind === 'option' && before.value === undefined && before.name !== 'help');
  });
}
