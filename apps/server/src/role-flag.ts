/** `--role api|worker|all` on the command line wins over COUNTERSIGN_ROLE. */
export function applyRoleFlag(argv: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const i = argv.findIndex((a) => a === '--role' || a.startsWith('--role='));
  if (i === -1) return env;
  const value = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  return { ...env, COUNTERSIGN_ROLE: value ?? '' };
}
