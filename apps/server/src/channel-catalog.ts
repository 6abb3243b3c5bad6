import { ChannelCatalog } from '@countersign/contracts';
import type { ServiceContext, ServiceModule } from '@countersign/modules';
import { modules as installedModules } from './modules.ts';

// Which channels this service knows, before anything is loaded: the policy and the directory
// may name these (and only these) whether or not each is switched on by its settings.

/**
 * The channels of every module this build installs (modules.ts) and of the modules this
 * service runs (tests run a few, and may add their own).
 */
export function channelCatalogFor(running: readonly ServiceModule[]): ChannelCatalog {
  return new ChannelCatalog([...installedModules, ...running].flatMap((m) => m.channels ?? []));
}

/** Fail closed: a channel implementation registered without its definition could never be asked by a rule. */
export function assertChannelsDefined(ctx: ServiceContext): void {
  for (const name of ctx.channels.keys()) {
    if (!ctx.channelCatalog.has(name)) throw new Error(`channel "${name}" was registered by a module that does not declare it in its \`channels\``);
  }
}
