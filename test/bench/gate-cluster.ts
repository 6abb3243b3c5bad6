import { startChild, stopChild, type ReadyChild } from './children.ts';
import type { ServiceRole } from './slack-stack.ts';

// The gate for the auto-decide rows (gate-server.ts: the real service with the test fixtures'
// policy and directory) in one process or several of given roles against one database and
// Redis: ['all'], or ['api', 'api', 'worker', 'worker'] for the scale-out row.

export interface GateCluster {
  /** `name`: the role and its number among that role's processes ("api 2"). */
  processes: { name: string; role: ServiceRole; pid: number; port: string; ready: ReadyChild }[];
  /** Ports of the processes that serve the API. */
  apiPorts: string[];
  /** An agent's API key (deploy-bot), good on every process. */
  token: string;
  stop(): Promise<void>;
}

export async function startGateCluster(opts: { databaseUrl: string; redisUrl: string; keysDir: string; roles: ServiceRole[] }): Promise<GateCluster> {
  const processes: GateCluster['processes'] = [];
  const stop = () => Promise.all(processes.map((p) => stopChild(p.ready.child))).then(() => undefined);
  const start = async (role: ServiceRole, i: number) => {
    const ready = await startChild('gate-server.ts', { DATABASE_URL: opts.databaseUrl, REDIS_URL: opts.redisUrl, COUNTERSIGN_KEYS_DIR: opts.keysDir, COUNTERSIGN_ROLE: role });
    const name = `${role} ${opts.roles.slice(0, i + 1).filter((r) => r === role).length}`;
    processes.push({ name, role, pid: ready.pid, port: ready.fields[0]!, ready });
    return ready;
  };
  try {
    // The first process makes the signing key; the others start together once it exists.
    const first = await start(opts.roles[0]!, 0);
    const rest = await Promise.allSettled(opts.roles.slice(1).map((role, i) => start(role, i + 1)));
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { processes, apiPorts: processes.filter((p) => p.role !== 'worker').map((p) => p.port), token: first.fields[1]!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
