import path from 'node:path';
import pino from 'pino';
import { startService } from '@countersign/server';
import { parseSettings } from '../../apps/server/src/settings.ts';

// The real service in its own process for the benchmark (the load generator must not share
// its event loop). Prints READY <port> <token> once it can take requests.
const root = path.resolve(import.meta.dirname, '..', '..');
const settings = parseSettings({
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
process.on('SIGTERM', () => {
  const b = (globalThis as any).__batches as [number, number][] | undefined;
  if (!b) return;
  const sizes = b.map((x) => x[0]).sort((x, y) => x - y);
  const times = b.map((x) => x[1]).sort((x, y) => x - y);
  const q = (a: number[], p: number) => a[Math.floor((a.length - 1) * p)]!.toFixed(1);
  process.stderr.write(`batches ${b.length} size p50 ${q(sizes, 0.5)} p90 ${q(sizes, 0.9)} max ${q(sizes, 1)} ms p50 ${q(times, 0.5)} p90 ${q(times, 0.9)} p99 ${q(times, 0.99)} max ${q(times, 1)}\n`);
});
process.on('SIGTERM', () => {
  const s = (globalThis as any).__steps as number[][] | undefined;
  if (!s) return;
  const q = (i: number, p: number) => { const a = s.map((x) => x[i]!).sort((x, y) => x - y); return a[Math.floor((a.length - 1) * p)]!.toFixed(2); };
  process.stderr.write(`steps insertActions p50 ${q(0, 0.5)} p90 ${q(0, 0.9)}; head p50 ${q(1, 0.5)} p90 ${q(1, 0.9)}; seal+artifacts p50 ${q(2, 0.5)} p90 ${q(2, 0.9)}\n`);
});
