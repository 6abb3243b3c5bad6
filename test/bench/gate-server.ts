import path from 'node:path';
import pino from 'pino';
import { startService } from '@countersign/server';
import { parseSettings } from '../../apps/server/src/settings.ts';
import { exitWhenOrphaned } from './orphan-guard.ts';

// The real service in its own process for the benchmark (the load generator must not share
// its event loop). Prints READY <port> <token> once it can take requests.
exitWhenOrphaned();
const root = path.resolve(import.meta.dirname, '..', '..');
const settings = parseSettings({
  // The benchmark measures deciding, not request budgets (set them in the environment to include them).
  COUNTERSIGN_RATE_LIMIT_PER_KEY: '0',
  COUNTERSIGN_RATE_LIMIT_PER_IP: '0',
  ...process.env,
  HOST: '127.0.0.1',
  PORT: '0',
  COUNTERSIGN_POLICY: path.join(root, 'test/fixtures/policy.yaml'),
  COUNTERSIGN_DIRECTORY: path.join(root, 'test/fixtures/directory.yaml'),
  LOG_LEVEL: 'silent',
});
const service = await startService({ settings, logger: pino({ level: 'silent' }), rootDir: root });
const { token } = await service.keys.create('deploy-bot', { label: 'bench' });
const alice = (await service.keys.create('alice', { label: 'bench' })).token;
const port = new URL(service.url).port;
process.stdout.write(`READY ${port} ${token} ${alice}\n`);
process.on('SIGTERM', () => {
  void service.stop().then(() => process.exit(0));
});
