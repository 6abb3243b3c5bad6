// First: tracing (when OTEL_* asks for it) must be in place before anything else loads.
import './telemetry/register.ts';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVariableNames, stateDir as stateDirOf } from '@countersign/config';
import { applyMigrations, ensureServiceLogin } from '@countersign/db/migrate';
import { startLocalStack, type LocalStack } from '@countersign/devstack';
import { teamsFirstScreenLines } from '@countersign/teams';
import { consoleFirstScreenLines } from '@countersign/console';
import { peopleOf } from '@countersign/core';
import { ensureDemoKeys } from './demo-keys.ts';
import { firstScreen } from './first-screen.ts';
import { createLogger } from './logger.ts';
import { applyRoleFlag } from './role-flag.ts';
import { startService, type RunningService } from './service.ts';
import { parseSettings, SettingsError } from './settings.ts';
import { StartupError } from './startup/startup-error.ts';

// `npm start`: the service on embedded defaults. Starts Postgres and Redis locally when
// DATABASE_URL / REDIS_URL are unset, applies migrations, loads config/, creates demo keys
// and prints what to do next. Ctrl-C stops everything it started.
// Migrations run as the schema owner (the embedded superuser, or MIGRATION_DATABASE_URL);
// the service connects as a role that may only append to the evidence (DATABASE_URL, or the
// embedded countersign_app login), and so does the CLI through runtime.json.
const rootDir = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
// Everything `npm start` keeps (database, Redis, keys, demo keys) lives in one folder: the
// git-ignored .countersign/ by default; COUNTERSIGN_STATE_DIR moves it (a second instance,
// or the test that runs `npm start` beside a developer's own).
const stateDir = stateDirOf(process.env, rootDir);

/** The state folder as a newcomer reads it: relative to the repository when inside it. */
function shownStateDir(): string {
  const relative = path.relative(rootDir, stateDir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `${relative}/` : `${stateDir}/`;
}

/** Set when COUNTERSIGN_STATE_DIR moved the folder: the CLI and the examples need it too. */
function customStateDir(): string | undefined {
  return process.env.COUNTERSIGN_STATE_DIR ? stateDir : undefined;
}

async function main(): Promise<void> {
  const env = applyRoleFlag(process.argv.slice(2), { ...process.env });
  let stack: LocalStack | undefined;
  // The embedded superuser's URL: it migrates; the service never gets it.
  let embeddedOwnerUrl: string | undefined;
  let service: RunningService | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\ncountersign: stopping…\n');
    await service?.stop().catch((err: Error) => process.stderr.write(`countersign: ${err.message}\n`));
    await stack?.stop().catch((err: Error) => process.stderr.write(`countersign: ${err.message}\n`));
    fs.rmSync(path.join(stateDir, 'runtime.json'), { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    if (!env.DATABASE_URL || !env.REDIS_URL) {
      process.stdout.write(`countersign: starting embedded Postgres and Redis (data in ${shownStateDir()})…\n`);
      stack = await startLocalStack({ rootDir, stateDir, log: (line) => process.stdout.write(`${line}\n`) });
      if (!env.DATABASE_URL) {
        embeddedOwnerUrl = stack.databaseUrl;
        env.DATABASE_URL = stack.serviceDatabaseUrl;
      }
      env.REDIS_URL ||= stack.redisUrl;
    }
    env.COUNTERSIGN_KEYS_DIR ??= path.join(stateDir, 'keys');
    // The console's embedded identity provider with the demo people (development only; it
    // refuses NODE_ENV=production). An organisation's provider: COUNTERSIGN_OIDC_ISSUER.
    if (!env.COUNTERSIGN_OIDC_ISSUER) env.COUNTERSIGN_OIDC_DEV ??= '1';
    const settings = parseSettings(env);
    // A misspelt variable stops here, before the embedded database is migrated.
    const unknown = checkVariableNames(env);
    const migrationUrl = embeddedOwnerUrl ?? (env.MIGRATION_DATABASE_URL || settings.DATABASE_URL);
    if (!/^postgres(ql)?:\/\//.test(migrationUrl)) throw new SettingsError('invalid configuration:\n  MIGRATION_DATABASE_URL: must be a postgres:// URL');
    await applyMigrations(migrationUrl);
    // Creates the service's login (or checks it holds no more than countersign_service grants).
    await ensureServiceLogin(migrationUrl, settings.DATABASE_URL);
    const logger = createLogger(env.LOG_LEVEL ?? 'warn', { human: true });
    for (const { name, suggestion } of unknown) logger.warn({ variable: name, ...(suggestion ? { didYouMean: suggestion } : {}) }, 'COUNTERSIGN_ variable nothing reads; ignored');
    service = await startService({ settings, logger, rootDir, env });
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(
      path.join(stateDir, 'runtime.json'),
      JSON.stringify({ url: service.url, databaseUrl: settings.DATABASE_URL, redisUrl: settings.REDIS_URL, pid: process.pid }, null, 2),
      { mode: 0o600 },
    );
    const demo = await ensureDemoKeys(service.keys, stateDir);
    const channelLines = [
      env.SLACK_BOT_TOKEN ? '  Slack: interactivity and events at $CS/slack/events' : '  Slack: off (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_TEAM_ID; see README)',
      ...teamsFirstScreenLines(env),
      ...consoleFirstScreenLines(env, service.url, peopleOf(service.gate.deps.config)),
    ];
    process.stdout.write(firstScreen({ url: service.url, demo, embedded: stack !== undefined, channelLines, stateDir: shownStateDir(), stateDirExport: customStateDir(), policyFile: settings.COUNTERSIGN_POLICY, directoryFile: settings.COUNTERSIGN_DIRECTORY }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      // The newcomer's likeliest first problem: another countersign (or anything) on 8080.
      const which = e.port !== undefined && String(e.port) === env.COUNTERSIGN_METRICS_PORT ? 'COUNTERSIGN_METRICS_PORT=9091' : 'PORT=8081';
      process.stderr.write(`countersign: port ${e.port ?? env.PORT ?? 8080} is already in use (another countersign still running?): stop it, or start on another port with ${which} npm start\n`);
    } else {
      process.stderr.write(`countersign: ${e.message}\n`);
      if (!(e instanceof SettingsError) && !(e instanceof StartupError) && e.name !== 'ConfigError') process.stderr.write(`${e.stack ?? ''}\n`);
    }
    await shutdown(1);
  }
}

void main();
