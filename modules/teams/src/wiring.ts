import { CloudAdapter } from 'botbuilder';
import type { Logger } from 'pino';
import type { ServiceContext } from '@countersign/modules';
import { createBotAuth } from './auth.ts';
import { CountersignTeamsBot } from './bot.ts';
import { TeamsChannel } from './channel.ts';
import { ConversationStore } from './conversations.ts';
import { registerBotRoute } from './http-route.ts';
import type { TeamsSettings } from './settings.ts';

// Everything that needs botbuilder, loaded only when Teams is on (the SDK and MSAL take a good
// half second to import; a service without Teams should not pay for it).

export function wireTeams(ctx: ServiceContext, settings: Exclude<TeamsSettings, { mode: 'off' }>, logger: Logger): void {
  const { auth, appId } = createBotAuth(settings, logger);
  const adapter = new CloudAdapter(auth);
  // Inbound turns only (proactive sends catch their own errors): log, then let the SDK answer 500.
  adapter.onTurnError = async (context, err) => {
    logger.error({ type: context.activity.type, name: context.activity.name, err: (err as Error).message }, 'Teams turn failed');
    throw err;
  };
  const conversations = new ConversationStore(ctx.db.conversations);
  const channel = new TeamsChannel({ adapter, appId, tenantId: settings.tenantId, conversations, config: ctx.config, logger, publicUrl: ctx.publicUrl });
  ctx.channels.set(channel.name, channel);

  if (ctx.role === 'all' || ctx.role === 'api') {
    const bot = new CountersignTeamsBot({ gate: ctx.gate, store: ctx.store, config: ctx.config, tenantId: settings.tenantId, conversations, logger, mayRead: ctx.reads.may });
    registerBotRoute(ctx.app, { adapter, logic: (context) => bot.run(context), devMode: settings.mode === 'dev', logger });
  }
}
