import type { ServiceModule } from '@countersign/modules';
import { slackModule } from '@countersign/slack';
import { teamsModule } from '@countersign/teams';
import { deliveryModule } from '@countersign/delivery';
import { workerModule } from '@countersign/worker';
import { consoleModule } from '@countersign/console';

// Feature modules, in registration order: channels first (the queue engine needs them),
// then the queue engine, then everything that reacts to final decisions.
export const modules: ServiceModule[] = [slackModule, teamsModule, workerModule, deliveryModule, consoleModule];
