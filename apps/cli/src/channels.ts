import { ChannelCatalog } from '@countersign/contracts';
import { slackChannel } from '@countersign/slack/definition';
import { teamsChannel } from '@countersign/teams/definition';

// The channels this build installs, for the commands that read the policy and the directory
// (`policy check`, `keys`): the same definitions the server's modules declare
// (apps/server/src/modules.ts), imported without the channels' SDKs. A test keeps the two lists
// equal (test/third-channel.test.ts).
export const installedChannels = new ChannelCatalog([slackChannel, teamsChannel]);
