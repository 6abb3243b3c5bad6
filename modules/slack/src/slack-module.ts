import type { ServiceContext, ServiceModule } from '@countersign/modules';
import { parseSlackSettings } from './settings.ts';

// Slack as a service module: the channel (for the queue's jobs, in every role) and, where this
// process serves HTTP, Bolt: at POST /slack/events on the service's own port, or, with
// SLACK_SOCKET_MODE=1, over a Socket Mode connection opened at start.

const running = new WeakMap<ServiceContext, { check: () => Promise<void> }>();

export const slackModule: ServiceModule = {
  name: 'slack',
  async register(ctx) {
    const settings = parseSlackSettings(ctx.env);
    if (!settings) {
      ctx.logger.info('Slack is off (no SLACK_* settings)');
      return;
    }
    const { wireSlack } = await import('./slack-wiring.ts');
    running.set(ctx, await wireSlack(ctx, settings));
    ctx.logger.info({ module: 'slack', team: settings.SLACK_TEAM_ID ?? null, enterprise: settings.SLACK_ENTERPRISE_ID ?? null, socketMode: settings.SLACK_SOCKET_MODE }, 'Slack is on');
  },
  async start(ctx) {
    await running.get(ctx)?.check();
  },
};
