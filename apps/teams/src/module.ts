import { CloudAdapter } from 'botbuilder';
import type { ServiceContext, ServiceModule } from '@countersign/modules';
import { createBotAuth } from './auth.ts';
import { CountersignTeamsBot } from './bot.ts';
import { TeamsChannel } from './channel.ts';
import { ConversationStore } from './conversations.ts';
import { registerBotRoute } from './http-route.ts';
import { parseTeamsSettings, type TeamsSettings } from './settings.ts';

// The Teams feature as a service module: the channel for the queue's workers (every role) and
// the /api/messages endpoint (roles all and api).

export const TEAMS_DEV_MODE_WARNING =
  'TEAMS DEVELOPMENT MODE: /api/messages accepts UNAUTHENTICATED Bot Framework requests (local requests only). Never run this in production; set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (or a certificate) and MICROSOFT_APP_TENANT_ID instead.';

/** Lines for the service's first screen (`npm start`), from the same settings the module reads. */
export function teamsFirstScreenLines(env: NodeJS.ProcessEnv): string[] {
  let settings: TeamsSettings;
  try {
    settings = parseTeamsSettings(env);
  } catch {
    return []; // the module itself stops the service with the reason
  }
  if (settings.mode === 'dev') return [`  !! ${TEAMS_DEV_MODE_WARNING}`];
  if (settings.mode === 'bot') return [`  Teams: bot endpoint $CS/api/messages (app ${settings.appId}, tenant ${settings.tenantId})`];
  return [];
}

export const teamsModule: ServiceModule = {
  name: 'teams',
  register(ctx: ServiceContext) {
    const settings = parseTeamsSettings(ctx.env);
    const logger = ctx.logger.child({ module: 'teams' });
    if (settings.mode === 'off') {
      logger.info('Teams channel off (set MICROSOFT_APP_ID, or TEAMS_DEV_MODE=1 for local development)');
      return;
    }
    if (settings.mode === 'dev') logger.warn(TEAMS_DEV_MODE_WARNING);

    const { auth, appId } = createBotAuth(settings, logger);
    const adapter = new CloudAdapter(auth);
    // Inbound turns only (proactive sends catch their own errors): log, then let the SDK answer 500.
    adapter.onTurnError = async (context, err) => {
      logger.error({ type: context.activity.type, name: context.activity.name, err: (err as Error).message }, 'Teams turn failed');
      throw err;
    };
    const conversations = new ConversationStore(ctx.prisma);
    ctx.channels.set('teams', new TeamsChannel({ adapter, appId, tenantId: settings.tenantId, conversations, config: ctx.config, logger }));

    if (ctx.role === 'all' || ctx.role === 'api') {
      const bot = new CountersignTeamsBot({
        gate: ctx.gate,
        store: ctx.store,
        config: ctx.config,
        tenantId: settings.tenantId,
        conversations,
        logger,
      });
      registerBotRoute(ctx.app, { adapter, logic: (context) => bot.run(context), devMode: settings.mode === 'dev', logger });
    }
  },
};
