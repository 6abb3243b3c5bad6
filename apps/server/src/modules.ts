import type { ServiceModule } from '@countersign/modules';

// Feature modules, in registration order: channels first (the queue engine needs them),
// then the queue engine, then everything that reacts to final decisions.
export const modules: ServiceModule[] = [];
