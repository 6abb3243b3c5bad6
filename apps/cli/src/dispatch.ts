import { commandNames, loadCommand, type CliContext } from './registry.ts';
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
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    ctx.stdout.write(command.usage.endsWith('\n') ? command.usage : `${command.usage}\n`);
    return 0;
  }
  return command.run(args, ctx);
}
