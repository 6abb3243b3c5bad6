import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// What waking up costs on this machine, the reason an escalation's CPU depends on the rate (not
// part of `npm run bench`; `npx tsx test/bench/wake-cost.ts`). An escalation at 25/s is a few
// dozen messages between processes that sleep in between: each message wakes a sleeping peer.
// Measured here, all in this process's CPU time, in one run:
//   - a timer's wake-up alone after 1, 5 and 40 ms asleep;
//   - a 200-byte round trip to an echo process, back to back and after each of those sleeps;
//   - the same round trip over loopback TCP and over a Unix socket.

const ECHO = 'wake-cost-echo';

if (process.argv[2] === ECHO) {
  const address = process.argv[3]!;
  const server = net.createServer((c) => c.on('data', (d) => c.write(d)));
  server.listen(address.startsWith('/') ? address : { host: '127.0.0.1', port: 0 }, () => {
    const a = server.address();
    process.send!(typeof a === 'object' && a ? a.port : address);
  });
} else {
  const cpuMicros = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const echo = async (address: string) => {
    const child = fork(fileURLToPath(import.meta.url), [ECHO, address], { execArgv: process.execArgv });
    const where = await new Promise<number | string>((resolve) => child.once('message', (m) => resolve(m as number | string)));
    const socket = typeof where === 'number' ? net.connect({ host: '127.0.0.1', port: where }) : net.connect(where);
    socket.setNoDelay(true);
    await new Promise((resolve) => socket.once('connect', resolve));
    const payload = Buffer.alloc(200, 1);
    const roundTrip = () =>
      new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write(payload);
      });
    return { roundTrip, close: () => (socket.destroy(), child.kill()) };
  };

  /** CPU µs per iteration of `step`, over `n` iterations after a warm-up. */
  const perStep = async (n: number, step: () => Promise<void>) => {
    for (let i = 0; i < Math.min(200, n); i++) await step();
    const before = cpuMicros();
    for (let i = 0; i < n; i++) await step();
    return (cpuMicros() - before) / n;
  };

  const tcp = await echo('tcp');
  const socketPath = join(tmpdir(), `countersign-wake-${process.pid}.sock`);
  rmSync(socketPath, { force: true });
  const unix = await echo(socketPath);
  try {
    const hotTcp = await perStep(10_000, tcp.roundTrip);
    const hotUnix = await perStep(10_000, unix.roundTrip);
    console.log(`round trip back to back: loopback TCP ${hotTcp.toFixed(1)} µs CPU, Unix socket ${hotUnix.toFixed(1)} µs (ratio ${(hotUnix / hotTcp).toFixed(2)})`);
    for (const gapMs of [1, 5, 40]) {
      const n = gapMs === 40 ? 150 : 600;
      const wake = await perStep(n, () => sleep(gapMs).then(() => undefined));
      const both = await perStep(n, async () => {
        await sleep(gapMs);
        await tcp.roundTrip();
      });
      console.log(
        `after ${String(gapMs).padStart(2)} ms asleep: wake-up alone ${wake.toFixed(0)} µs CPU; a round trip after it ${(both - wake).toFixed(0)} µs ` +
          `(${((both - wake) / hotTcp).toFixed(1)}× back to back)`,
      );
    }
  } finally {
    tcp.close();
    unix.close();
    rmSync(socketPath, { force: true });
  }
}
