#!/usr/bin/env node
import { commandNames, loadCommand } from './registry.ts';

// `countersign <command> …`: a thin dispatcher. Each command lives in commands/<name>.ts and
// returns its exit code; nothing here knows what the commands do.
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`usage: countersign <command> [options]\n\ncommands:\n${commandNames().map((c) => `  ${c}`).join('\n')}\n`);
    return name ? 0 : 2;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`countersign: unknown command "${name}" (try --help)\n`);
    return 2;
  }
  return command.run(args, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`countersign: ${err.message}\n`);
    process.exitCode = 1;
  },
);
