import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, databaseUrl } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { FakeSlack } from '../fakes/slack-api.ts';
import { profileFlags, startChild, stopChild, type ReadyChild } from './children.ts';

// One escalation set-up for the Slack benchmarks: a fresh database, the fake Slack Web API (in
// this process), a policy with one rule, one channel, one agent and one owner per channel, and
// the service in one or more processes of the given roles (['all'], or ['api', 'worker'], or
// ['api', 'api', 'worker', 'worker']) sharing that database and one queue prefix in Redis.

export type ServiceRole = 'all' | 'api' | 'worker';

export const SLACK_TEAM = 'T0BENCH001';
export const SLACK_SECRET = 'bench-signing-secret-0123456789';
export const REVIEWER = { id: 'U0REVIEW01', teamId: SLACK_TEAM };

export interface SlackStackOptions {
  /** Superuser URL of a Postgres to create the stack's database in. */
  postgresUrl: string;
  redisUrl: string;
  /** Scratch folder (policy, directory, keys). */
  workDir: string;
  /** Names the database, the queue prefix and the files: unique within one bench run. */
  name: string;
  channels: number;
  roles: ServiceRole[];
  /** Minimum milliseconds between two posts to one Slack channel (the queue's pacing). */
  pacingMs?: number;
  env?: Record<string, string>;
}

export interface ServiceProcess {
  role: ServiceRole;
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  ready: ReadyChild;
}

export interface SlackStack {
  fake: FakeSlack;
  processes: ServiceProcess[];
  /** The processes that take HTTP requests for the API and Slack clicks. */
  apiUrls: string[];
  channels: number;
  queuePrefix: string;
  databaseUrl: string;
  /** The API key of the agent that asks in channel `c`. */
  agentToken(c: number): string;
  stop(): Promise<void>;
}

export const pad = (i: number) => String(i).padStart(4, '0');

function benchFiles(workDir: string, channels: number): { policy: string; directory: string; agents: string[] } {
  const rules = [];
  const people = [`  - { id: reviewer, name: Reviewer, email: reviewer@bench.test, roles: [sre-lead], slack: { userId: ${REVIEWER.id} } }`];
  const agents = [];
  for (let i = 0; i < channels; i++) {
    rules.push(`  - id: bench-slack-${i}
    when: 'action.type == "bench.slack" && action.resource == "res-${i}"'
    outcome: escalate
    reason: bench escalation ${i}
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels: { slack: ['#bench-${i}'] }`);
    // One agent (and owner) per channel, so requester DMs spread like the cards do.
    people.push(`  - { id: owner-${i}, name: Owner ${i}, email: owner-${i}@bench.test, roles: [], slack: { userId: U0OWN${pad(i)} } }`);
    agents.push(`agent-${i}`);
  }
  const agentLines = agents.map((a, i) => `  - { id: ${a}, name: Agent ${i}, owner: owner-${i}, roles: [] }`);
  const policy = path.join(workDir, 'policy.yaml');
  const directory = path.join(workDir, 'directory.yaml');
  fs.writeFileSync(policy, `version: 1\nrules:\n${rules.join('\n\n')}\n`);
  fs.writeFileSync(directory, `version: 1\npeople:\n${people.join('\n')}\nagents:\n${agentLines.join('\n')}\n`);
  return { policy, directory, agents };
}

export async function startSlackStack(opts: SlackStackOptions): Promise<SlackStack> {
  const workDir = path.join(opts.workDir, opts.name);
  fs.mkdirSync(workDir, { recursive: true });
  const files = benchFiles(workDir, opts.channels);
  const fake = await FakeSlack.start({
    teamId: SLACK_TEAM,
    channelRate: { windowMs: 1000, burst: 1 },
    channels: Array.from({ length: opts.channels }, (_, i) => ({ id: `C0BENCH${pad(i)}`, name: `bench-${i}` })),
    users: [
      { id: REVIEWER.id, team_id: SLACK_TEAM, email: 'reviewer@bench.test', is_email_confirmed: true },
      ...Array.from({ length: opts.channels }, (_, i) => ({ id: `U0OWN${pad(i)}`, team_id: SLACK_TEAM, email: `owner-${i}@bench.test`, is_email_confirmed: true })),
    ],
  });
  const processes: ServiceProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(processes.map((p) => stopChild(p.ready.child)));
    await fake.close();
  };
  try {
    const dbName = `bench_${opts.name.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}`;
    await createDatabase(opts.postgresUrl, dbName);
    const dbUrl = databaseUrl(opts.postgresUrl, dbName);
    await applyMigrations(dbUrl);
    const queuePrefix = `bench-${opts.name}-${process.pid}`;
    const tokensFile = path.join(workDir, 'tokens.json');
    const env = (role: ServiceRole, makesKeys: boolean): Record<string, string> => ({
      DATABASE_URL: dbUrl,
      REDIS_URL: opts.redisUrl,
      COUNTERSIGN_ROLE: role,
      COUNTERSIGN_POLICY: files.policy,
      COUNTERSIGN_DIRECTORY: files.directory,
      COUNTERSIGN_KEYS_DIR: path.join(workDir, 'keys'),
      COUNTERSIGN_QUEUE_PREFIX: queuePrefix,
      COUNTERSIGN_WORKER_CONCURRENCY: process.env.COUNTERSIGN_WORKER_CONCURRENCY ?? '8',
      COUNTERSIGN_CHANNEL_PACING_MS: `slack=${opts.pacingMs ?? 1000}`,
      // The stage benchmark holds long-polls open while it clicks through hundreds of cards.
      COUNTERSIGN_MAX_WAIT_SECONDS: '300',
      SLACK_BOT_TOKEN: fake.token,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_TEAM_ID: SLACK_TEAM,
      SLACK_API_URL: fake.url,
      BENCH_AGENTS: makesKeys ? files.agents.join(',') : '',
      ...(makesKeys ? { BENCH_TOKENS_FILE: tokensFile } : {}),
      ...opts.env,
    });
    const keyMaker = opts.roles.findIndex((r) => r !== 'worker');
    if (keyMaker < 0) throw new Error('a Slack stack needs a process that serves the API');
    const start = async (role: ServiceRole, i: number) => {
      const ready = await startChild('slack-server.ts', env(role, i === keyMaker), profileFlags());
      processes.push({ role, pid: ready.pid, url: `http://127.0.0.1:${ready.fields[0]}`, ready });
    };
    // The first process makes the signing key; the others start together once it exists.
    await start(opts.roles[keyMaker]!, keyMaker);
    // Settled, not raced: a process that failed must not leave a sibling starting unwatched.
    const started = await Promise.allSettled(opts.roles.map((role, i) => (i === keyMaker ? undefined : start(role, i))));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const tokens = JSON.parse(fs.readFileSync(tokensFile, 'utf8')) as Record<string, string>;
    return {
      fake,
      processes,
      apiUrls: processes.filter((p) => p.role !== 'worker').map((p) => p.url),
      channels: opts.channels,
      queuePrefix,
      databaseUrl: dbUrl,
      agentToken: (c) => tokens[`agent-${c % opts.channels}`]!,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
