import type { ParseArgsConfig } from 'node:util';

export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  run(args: string[], ctx: CliContext): Promise<number>;
  /** The command's options, printed by `countersign <command> --help` (exit 0). */
  usage: string;
  /**
   * The options it parses (node:util parseArgs): dispatch.ts reads them to tell a --help or -h
   * standing as an option from one that is an option's value.
   */
  options?: ParseArgsConfig['options'];
  /** false when the first word is an operand (verify's FILE), so `help` there is not help. */
  helpWord?: boolean;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  actions: () => import('./commands/actions.ts'),
  keys: () => import('./commands/keys.ts'),
  export: () => import('./commands/export.ts'),
  verify: () => import('./commands/verify.ts'),
  policy: () => import('./commands/policy.ts'),
  'signing-key': () => import('./commands/signing-key.ts'),
  'webhook-secret': () => import('./commands/webhook-secret.ts'),
  'mcp-proxy': () => import('./commands/mcp-proxy.ts'),
};

export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

export async function loadCommand(name: string): Promise<Command | undefined> {
  const load = COMMANDS[name];
  return load ? load() : undefined;
}
