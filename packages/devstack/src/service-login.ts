import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The login role `npm start`'s service connects as: a member of countersign_service, which the
 * migrations grant only what the service needs (no UPDATE or DELETE on artifacts). The embedded
 * superuser applies the migrations and creates this login (ensureServiceLogin in packages/db).
 */
export const LOCAL_SERVICE_LOGIN = 'countersign_app';

/**
 * The service login's password, generated on first use and kept in `file` (owner-only), so the
 * login made on first start keeps working across restarts.
 */
export function servicePassword(file: string): string {
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  try {
    // "wx": a second instance starting at the same moment keeps the first one's password.
    writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
    return password;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(file, 'utf8').trim();
  }
}

/** The same server and database as `url`, as `user` with `password`. */
export function urlAs(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
