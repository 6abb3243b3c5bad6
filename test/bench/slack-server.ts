import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { startService } from '@countersign/server';
import { slackModule } from '@countersign/slack';
import { workerModule } from '@countersign/worker';
import { parseSettings } from '../../apps/server/src/settings.ts';
import { exitWhenOrphaned } from './orphan-guard.ts';

// The real service with the Slack app and the queue workers, in its own process for the Slack
// benchmarks (the load generator and the fake Slack must not share its event loop). Policy,
// directory, SLACK_* and COUNTERSIGN_ROLE (all, api or worker) come from the environment; API
// keys for the agents in BENCH_AGENTS are written to BENCH_TOKENS_FILE (one process of a
// cluster makes them: keys live in the shared database). Prints READY <port> once it can take
// requests.
exitWhenOrphaned();
const root = path.resolve(import.meta.dirname, '..', '..');
// The benchmark measures deciding, not request budgets (set them in the environment to include them).
const settings = parseSettings({ COUNTERSIGN_RATE_LIMIT_PER_KEY: '0', COUNTERSIGN_RATE_LIMIT_PER_IP: '0', ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' });
const service = await startService({
  settings,
  logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
  rootDir: root,
  modules: [slackModule, workerModule],
});
const agents = (process.env.BENCH_AGENTS ?? '').split(',').filter(Boolean);
const tokens: Record<string, string> = {};
// Hundreds of agents: a few at a time, so boot stays short without flooding the pool.
for (let i = 0; i < agents.length; i += 20) {
  await Promise.all(agents.slice(i, i + 20).map(async (agent) => (tokens[agent] = (await service.keys.create(agent, { label: 'bench' })).token)));
}
if (process.env.BENCH_TOKENS_FILE) fs.writeFileSync(process.env.BENCH_TOKENS_FILE, JSON.stringify(tokens));
process.stdout.write(`READY ${new URL(service.url).port}\n`);
process.on('SIGTERM', () => {
  void service.stop().then(() => process.exit(0));
});
