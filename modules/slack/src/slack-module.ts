import { StateKey, type ServiceModule } from '@countersign/modules';
import { slackChannel } from './definition.ts';
import { parseSlackSettings } from './settings.ts';

// Slack as a service module: the channel (for the queue's jobs, in every role) and, where this
// process serves HTTP, Bolt: at POST /slack/events on the service's own port, or, with
// SLACK_SOCKET_MODE=1, over a Socket Mode connection opened at start.

/** What start() finishes for a wired Slack: the token check, the Socket Mode connection. */
const RUNNING = new StateKey<{ check: () => Promise<void> }>('slack wiring');

export const slackModule: ServiceModule = {
  name: 'slack',
  // Known to the policy and directory loaders even while Slack is off (no SLACK_* settings).
  channels: [slackChannel],
  async register(ctx) {
    const settings = parseSlackSettings(ctx.env);
    if (!settings) {
      ctx.logger.info('Slack is off (no SLACK_* settings)');
      return;
    }
    const { wireSlack } = await import('./slack-wiring.ts');
    ctx.state.set(RUNNING, await wireSlack(ctx, settings));
    ctx.logger.info({ module: 'slack', team: settings.SLACK_TEAM_ID ?? null, enterprise: settings.SLACK_ENTERPRISE_ID ?? null, socketMode: settings.SLACK_SOCKET_MODE }, 'Slack is on');
  },
  async start(ctx) {
    await ctx.state.get(RUNNING)?.check();
  },
};
