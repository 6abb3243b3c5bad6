import { StateKey, type Role, type ServiceContext, type ServiceModule } from '@countersign/modules';
import { startWorkerEngine, type WorkerEngine } from './engine.ts';
import { parseWorkerSettings, type WorkerSettings } from './settings.ts';

const SETTINGS = new StateKey<WorkerSettings>('worker settings');
const ENGINE = new StateKey<WorkerEngine | undefined>('worker engine');

/** The queue engine runs in the worker role (and in the default all-in-one process). */
export function runsWorkers(role: Role): boolean {
  return role === 'all' || role === 'worker';
}

/**
 * The queue-backed escalation engine as a service module. Settings are parsed at register()
 * in every role, so a bad value fails at boot wherever it is set; queues, workers, the outbox
 * dispatcher and the sweeper start in start(), after the channel modules have registered.
 * An api-only process starts none of it: the outbox makes enqueueing from the API unnecessary.
 */
export const workerModule: ServiceModule = {
  name: 'worker',
  register(ctx) {
    ctx.state.set(SETTINGS, parseWorkerSettings(ctx.env));
  },
  async start(ctx) {
    if (!runsWorkers(ctx.role)) return;
    const settings = ctx.state.get(SETTINGS) ?? parseWorkerSettings(ctx.env);
    const engine = await startWorkerEngine(ctx, settings);
    ctx.state.set(ENGINE, engine);
    ctx.onStop(async () => {
      ctx.state.set(ENGINE, undefined);
      await engine.stop();
    });
  },
};

/** The engine running for this service, if any (tests, operators' tooling). */
export function workerEngine(ctx: ServiceContext): WorkerEngine | undefined {
  return ctx.state.get(ENGINE);
}
