import type { ServiceModule } from '@countersign/modules';
import { slackModule } from '@countersign/slack';
import { teamsModule } from '@countersign/teams';
import { deliveryModule } from '@countersign/delivery';
import { workerModule } from '@countersign/worker';
import { consoleModule } from '@countersign/console';

// The plug-ins this build installs: the one list that names them (a new channel, job runner or
// gateway is a module added here; see modules/README.md). Their channel definitions are known
// before the config files load (channel-catalog.ts); every module registers before any starts,
// so the queue engine sees every channel whatever the order.
export const modules: ServiceModule[] = [slackModule, teamsModule, workerModule, deliveryModule, consoleModule];
