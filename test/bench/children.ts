import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

// The benchmark's server processes: each a script here run by node itself (`--import tsx`, no
// wrapper process, so its pid is the one to sample for CPU and memory), that prints
// `READY <fields…>` once it takes requests.

export interface ReadyChild {
  child: ChildProcess;
  pid: number;
  /** What followed READY on its line. */
  fields: string[];
}

export function startChild(script: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ReadyChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(import.meta.dirname, script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    let ready = false;
    child.stdout!.on('data', (d: Buffer) => {
      // After READY, whatever the process prints (logs at BENCH_LOG_LEVEL) goes to our stderr.
      if (ready) {
        process.stderr.write(d);
        return;
      }
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('READY '));
      if (!line) return;
      ready = true;
      resolve({ child, pid: child.pid!, fields: line.trim().split(' ').slice(1) });
      const rest = buf.slice(buf.indexOf(line) + line.length + 1);
      if (rest) process.stderr.write(rest);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.removeAllListeners('exit');
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Node flags for the service processes: BENCH_PROFILE_DIR writes a V8 CPU profile of each there. */
export function profileFlags(): string[] {
  const flags = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  if (process.env.BENCH_EXTRA_IMPORT) flags.push('--import', process.env.BENCH_EXTRA_IMPORT);
  // BENCH_NODE_FLAGS: more flags for the service processes (space-separated, e.g. V8's --trace-deopt).
  if (process.env.BENCH_NODE_FLAGS) flags.push(...process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean));
  return flags;
}
