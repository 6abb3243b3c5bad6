import { App } from '@slack/bolt';
import type { ServiceContext } from '@countersign/modules';
import { ChannelNames } from './channel-names.ts';
import { FastifyReceiver } from './fastify-receiver.ts';
import { registerInteractions } from './interactions.ts';
import type { SlackSettings } from './settings.ts';
import { SlackApi } from './slack-api.ts';
import { SlackChannel } from './slack-channel.ts';
import { slackLogger } from './slack-logger.ts';
import { SocketReceiver } from './socket-receiver.ts';
import { createWebClient, webClientOptions } from './web-client.ts';

// Everything Slack needs at run time, loaded by slack-module.ts only when Slack is configured:
// Bolt and the WebClient (with express and axios behind them) cost every other process,
// the CLI included, a noticeable start-up time for nothing.

/** Bolt with our listeners on a receiver; one workspace, one bot token. */
function boltApp(ctx: ServiceContext, settings: SlackSettings, api: SlackApi, receiver: FastifyReceiver | SocketReceiver): App {
  const logger = ctx.logger.child({ module: 'slack' });
  const bolt = new App({
    receiver,
    socketMode: receiver instanceof SocketReceiver,
    // Our own client (SlackApi) makes the calls; Bolt's gets the same options so nothing it
    // might call reaches Slack another way.
    authorize: async () => ({ botToken: settings.SLACK_BOT_TOKEN }),
    clientOptions: webClientOptions(settings, logger),
    logger: slackLogger(logger),
    // Only interactivity is handled: no message events to ignore, no conversation state.
    ignoreSelf: false,
    convoStore: false,
  });
  registerInteractions(bolt, { gate: ctx.gate, config: ctx.config, api, settings, logger });
  return bolt;
}

/** HTTP: Bolt at POST /slack/events on the service's own port. */
async function mountHttp(ctx: ServiceContext, settings: SlackSettings, api: SlackApi): Promise<void> {
  const logger = ctx.logger.child({ module: 'slack' });
  if (!settings.SLACK_SIGNING_SECRET) throw new Error('SLACK_SIGNING_SECRET is required unless SLACK_SOCKET_MODE=1');
  const receiver = new FastifyReceiver({ signingSecret: settings.SLACK_SIGNING_SECRET, logger });
  boltApp(ctx, settings, api, receiver);
  ctx.onStop(() => receiver.stop());
  await receiver.register(ctx.app);
}

/** Socket Mode: Bolt's SocketModeReceiver; connected at start(), after the token check. */
function mountSocket(ctx: ServiceContext, settings: SlackSettings, api: SlackApi): SocketReceiver {
  const logger = ctx.logger.child({ module: 'slack', receiver: 'socket' });
  if (!settings.SLACK_APP_TOKEN) throw new Error('SLACK_APP_TOKEN is required with SLACK_SOCKET_MODE=1');
  const { slackApiUrl, timeout } = webClientOptions(settings, logger);
  const receiver = new SocketReceiver({
    appToken: settings.SLACK_APP_TOKEN,
    logger,
    clientOptions: { ...(slackApiUrl ? { slackApiUrl } : {}), ...(timeout ? { timeout } : {}), logger: slackLogger(logger) },
  });
  boltApp(ctx, settings, api, receiver);
  ctx.onStop(() => receiver.stop());
  return receiver;
}

/**
 * The bot token must belong to the workspace (or organisation) whose people may decide:
 * otherwise cards would go where no click can ever count. A Slack that cannot be reached at
 * boot is only logged: the queue retries posting once it is back.
 */
async function checkToken(api: SlackApi, settings: SlackSettings, ctx: ServiceContext): Promise<void> {
  let auth: { team_id?: string; enterprise_id?: string };
  try {
    auth = await api.call('auth.test', (c) => c.auth.test());
  } catch (err) {
    if ((err as { retryable?: boolean }).retryable) return;
    throw new Error(`Slack bot token refused by auth.test (${(err as { code?: string }).code ?? 'error'}): check SLACK_BOT_TOKEN`);
  }
  if (settings.SLACK_TEAM_ID && auth.team_id && auth.team_id !== settings.SLACK_TEAM_ID) {
    throw new Error('SLACK_BOT_TOKEN belongs to another workspace than SLACK_TEAM_ID');
  }
  if (settings.SLACK_ENTERPRISE_ID && auth.enterprise_id !== settings.SLACK_ENTERPRISE_ID) {
    throw new Error('SLACK_BOT_TOKEN belongs to another organisation than SLACK_ENTERPRISE_ID');
  }
  ctx.logger.info({ team: auth.team_id ?? null }, 'Slack bot token checked');
}

/** Registers the channel and, in HTTP roles, Bolt (HTTP or Socket Mode); returns what start() needs. */
export async function wireSlack(ctx: ServiceContext, settings: SlackSettings): Promise<{ check: () => Promise<void> }> {
  const logger = ctx.logger.child({ module: 'slack' });
  const api = new SlackApi(createWebClient(settings, logger), logger, ctx.metrics);
  const names = new ChannelNames(api, settings.SLACK_CHANNEL_CACHE_SECONDS * 1000);
  const channel = new SlackChannel({ api, config: ctx.config, names, logger, publicUrl: ctx.publicUrl });
  ctx.channels.set(channel.name, channel);
  // Clicks are ingress: taken where HTTP is served, over the socket or at /slack/events.
  let socket: SocketReceiver | undefined;
  if (ctx.role === 'all' || ctx.role === 'api') {
    if (settings.SLACK_SOCKET_MODE) socket = mountSocket(ctx, settings, api);
    else await mountHttp(ctx, settings, api);
  }
  return {
    check: async () => {
      await checkToken(api, settings, ctx);
      await socket?.connect();
    },
  };
}
