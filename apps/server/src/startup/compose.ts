import { serviceState, type ServiceContext, type ServiceModule } from '@countersign/modules';
import { assertChannelsDefined } from '../channel-catalog.ts';
import type { Stops } from './stops.ts';

/** Everything a module is handed but the parts shared by every module (filled in here). */
export type ModuleResources = Omit<ServiceContext, 'state' | 'channels' | 'onStop'>;

/**
 * Builds the context the feature modules share and lets each register itself (routes, jobs,
 * channels); a channel implementation without its declaration stops the start.
 */
export async function registerModules(modules: readonly ServiceModule[], resources: ModuleResources, stops: Stops): Promise<ServiceContext> {
  const context: ServiceContext = {
    ...resources,
    state: serviceState(),
    channels: new Map(),
    onStop: (fn) => stops.add(fn),
  };
  for (const m of modules) await m.register(context);
  assertChannelsDefined(context);
  return context;
}

/** Once the service listens: modules start their workers, consumers and sockets. */
export async function startModules(modules: readonly ServiceModule[], context: ServiceContext): Promise<void> {
  for (const m of modules) await m.start?.(context);
}
