import fs from 'node:fs';
import path from 'node:path';
import { KeyService, systemClock, type AuditExport } from '@countersign/core';
import { keysDir, loadConfigFiles, stateDir, type ConfigSnapshot } from '@countersign/config';
import { Database } from '@countersign/db';
import { loadKeyring } from '@countersign/evidence';
import { installedChannels } from './channels.ts';
import { configFilePaths, loadedConfigFiles } from './config-files.ts';
import type { CliContext } from './registry.ts';

/** What the CLI's commands reach the system of record through: the engine's services, never tables. */
export interface LocalEngine {
  keys: KeyService;
  audit: AuditExport;
  close(): Promise<void>;
}

/**
 * The database the CLI talks to: DATABASE_URL, else the one a running `npm start` recorded in
 * runtime.json in its state folder (.countersign/, or COUNTERSIGN_STATE_DIR). Never guessed:
 * without either we stop with what to do.
 */
export function databaseUrl(ctx: CliContext): string {
  if (ctx.env.DATABASE_URL) return checkedDatabaseUrl(ctx.env.DATABASE_URL);
  const runtime = path.join(stateDir(ctx.env, ctx.cwd), 'runtime.json');
  if (fs.existsSync(runtime)) {
    const parsed = JSON.parse(fs.readFileSync(runtime, 'utf8')) as { databaseUrl?: string };
    if (parsed.databaseUrl) return parsed.databaseUrl;
  }
  throw new Error('no database: set DATABASE_URL, or run `npm start` in another terminal first');
}

/**
 * DATABASE_URL as the server checks it, naming the variable and never echoing the value (it
 * holds a password). Otherwise the driver reads "notaurl" as a socket path and answers
 * "getaddrinfo ENOTFOUND base", or a stray character gives a bare "Invalid URL".
 */
function checkedDatabaseUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) throw new Error('DATABASE_URL must be a postgres:// URL (special characters in the password percent-encoded)');
  return url;
}

export function openEngine(ctx: CliContext): LocalEngine {
  const resolve = (p: string) => path.resolve(ctx.cwd, p);
  const keyring = loadKeyring({
    pem: ctx.env.COUNTERSIGN_SIGNING_KEY,
    pemFile: ctx.env.COUNTERSIGN_SIGNING_KEY_FILE ? resolve(ctx.env.COUNTERSIGN_SIGNING_KEY_FILE) : undefined,
    dir: keysDir(ctx.env, ctx.cwd),
    // Never mint a key here: evidence sealed with a key nobody configured would be
    // unverifiable forever (the store is append-only). The service creates the embedded one.
    create: false,
  });
  const db = Database.open(databaseUrl(ctx), { max: 2 });
  // Keys read the directory only (the CLI never evaluates the policy), and only to create one:
  // the files are read then, so listing or revoking keys and exporting need neither (an auditor
  // with DATABASE_URL alone can export). With NODE_ENV=production they must be named and must
  // not be the demo's (config-files.ts). The policy is still compiled: a broken one is refused.
  let files: ConfigSnapshot | undefined;
  const current = () => (files ??= loadedConfigFiles(ctx, configFilePaths(ctx), (paths) => loadConfigFiles(paths, { channels: installedChannels })));
  const keys = new KeyService(db.gateStore(keyring), { current }, systemClock);
  return { keys, audit: db.auditExport(keyring), close: () => db.close() };
}
