import { parseConsoleSettings } from './settings.ts';

/** What `npm start`'s first screen says about the console: where it is and who can sign in. */
export function consoleFirstScreenLines(env: NodeJS.ProcessEnv, url: string, people: readonly { id: string; roles: string[] }[]): string[] {
  const s = parseConsoleSettings(env);
  const at = `${url}/console`;
  if (s.COUNTERSIGN_OIDC_ISSUER) return [`  Console: ${at} (sign in with ${new URL(s.COUNTERSIGN_OIDC_ISSUER).host})`];
  if (!s.COUNTERSIGN_OIDC_DEV) return ['  Console: off (set COUNTERSIGN_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET; see README)'];
  const logins = people.map((p) => `${p.id}${p.roles.length ? ` (${p.roles.join(', ')})` : ''}`);
  return [`  Console: ${at} → sign in as ${logins.join(', ')}; any password (embedded development identity provider)`];
}
