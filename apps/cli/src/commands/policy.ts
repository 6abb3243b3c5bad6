import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFiles, validateAgainst } from '@countersign/config';
import { lintPolicy, runPolicyTests } from '@countersign/policy';
import { installedChannels } from '../channels.ts';
import { ConfigFilesError, configFilePaths, demoProblems } from '../config-files.ts';
import { shownError, shownLine } from '../terminal.ts';

// `countersign policy check` and `countersign policy test FILE`: the CI gate for policy and
// directory changes. Exit codes: 0 fine, 1 the config or a test is wrong, 2 usage error.
// Names, messages and warnings quote the files, which a pull request writes: through
// terminal.ts, so a test's name cannot rewrite the line that says another one failed.

export interface CommandContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const USAGE = `usage:
  countersign policy check [--policy FILE] [--directory FILE]
  countersign policy test TESTFILE [--policy FILE] [--directory FILE]

Defaults: $COUNTERSIGN_POLICY or config/policy.yaml, $COUNTERSIGN_DIRECTORY or config/directory.yaml
(the demo organisation); with NODE_ENV=production there is no default: name both, and files
marked demo: true are refused.
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = { policy: { type: 'string' }, directory: { type: 'string' } } as const;

export async function run(args: string[], ctx: CommandContext): Promise<number> {
  const out = (line: string) => ctx.stdout.write(`${line}\n`);
  const err = (line: string) => ctx.stderr.write(`${line}\n`);

  const parsed = parseCommandArgs(args);
  if ('error' in parsed) {
    err(shownLine(parsed.error));
    ctx.stderr.write(USAGE);
    return 2;
  }
  const [sub, ...positional] = parsed.positional;
  if (sub === 'help' || sub === undefined) {
    (sub === 'help' ? ctx.stdout : ctx.stderr).write(USAGE);
    return sub === 'help' ? 0 : 2;
  }
  if (sub !== 'check' && sub !== 'test') {
    err(`unknown policy command "${shownLine(sub)}"`);
    ctx.stderr.write(USAGE);
    return 2;
  }
  if ((sub === 'check' && positional.length > 0) || (sub === 'test' && positional.length !== 1)) {
    err(sub === 'test' ? 'policy test needs exactly one test file' : `unexpected argument "${shownLine(positional[0])}"`);
    ctx.stderr.write(USAGE);
    return 2;
  }

  // An empty --policy is a mistake (`--policy "$POLICY_FILE"` with the variable unset), never
  // "the default": it used to check the demo policy and pass a CI gate.
  for (const option of ['policy', 'directory'] as const) {
    if (parsed[option] === '') {
      err(`--${option} is empty: name the ${option} file`);
      ctx.stderr.write(USAGE);
      return 2;
    }
  }
  let paths;
  try {
    paths = configFilePaths(ctx, { policy: parsed.policy, directory: parsed.directory }, true);
  } catch (e) {
    if (e instanceof ConfigFilesError) {
      err(`countersign policy: ${shownError(e)}`);
      return 1;
    }
    throw e;
  }
  const { policyPath, directoryPath } = paths;

  try {
    const { policy, directory } = await loadConfigFiles({ policyPath, directoryPath }, { channels: installedChannels });
    const demo = demoProblems(ctx, { policy, directory }, paths);
    if (demo.length > 0) {
      for (const line of demo) err(`countersign policy: ${shownLine(line)}`);
      return 1;
    }

    if (sub === 'check') {
      out(`policy    ${shownLine(policyPath)}: ${policy.rules.length} rules, digest ${policy.digest}`);
      out(`directory ${shownLine(directoryPath)}: ${directory.people().length} people, ${directory.agents().length} agents, digest ${directory.digest}`);
      // The lint: approve rules that rest only on what the caller says about itself.
      const warnings = [...lintPolicy(policy).map((w) => w.message), ...validateAgainst(policy, directory)];
      for (const warning of warnings) out(`warning: ${shownLine(warning)}`);
      out(warnings.length ? `ok, with ${warnings.length} warning(s)` : 'ok');
      return 0;
    }

    const testPath = resolve(ctx.cwd, positional[0]!);
    let text: string;
    try {
      text = await readFile(testPath, 'utf8');
    } catch (e) {
      throw new ConfigError(testPath, 1, 1, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message);
    }
    const report = runPolicyTests(policy, directory, text, testPath);
    for (const result of report.results) {
      out(result.ok ? `✓ ${shownLine(result.name)}` : `✗ ${shownLine(result.name)}\n    ${shownLine(result.message)}`);
    }
    out(`${report.passed} passed, ${report.failed} failed`);
    return report.failed === 0 ? 0 : 1;
  } catch (e) {
    // Config problems are the user's to fix: print exactly where. Anything else is our bug and
    // keeps its stack by propagating.
    if (e instanceof ConfigError) {
      err(shownError(e));
      return 1;
    }
    throw e;
  }
}

function parseCommandArgs(args: string[]): { positional: string[]; policy?: string; directory?: string } | { error: string } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { positional: positionals, ...(values.policy !== undefined ? { policy: values.policy } : {}), ...(values.directory !== undefined ? { directory: values.directory } : {}) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Shown by `countersign policy --help`. */
export { USAGE as usage };
