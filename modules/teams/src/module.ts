import type { ServiceContext, ServiceModule } from '@countersign/modules';
import { teamsChannel } from './definition.ts';
import { parseTeamsSettings, type TeamsSettings } from './settings.ts';

// The Teams feature as a service module: the channel for the queue's workers (every role) and
// the /api/messages endpoint (roles all and api).

export const TEAMS_DEV_MODE_WARNING =
  'TEAMS DEVELOPMENT MODE: /api/messages accepts UNAUTHENTICATED Bot Framework requests (local requests only). Never run this in production; set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (or a certificate) and MICROSOFT_APP_TENANT_ID instead.';

export const TEAMS_OFF_LINE = '  Teams: off (set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID; see README)';

/**
 * Lines for the service's first screen (`npm start`), from the same settings the module reads
 * (so the screen cannot say "off" while the module runs, e.g. with TEAMS_DEV_MODE=true).
 */
export function teamsFirstScreenLines(env: NodeJS.ProcessEnv): string[] {
  let settings: TeamsSettings;
  try {
    settings = parseTeamsSettings(env);
  } catch {
    return []; // the module itself stops the service with the reason
  }
  if (settings.mode === 'dev') return [`  !! ${TEAMS_DEV_MODE_WARNING}`];
  if (settings.mode === 'bot') return [`  Teams: bot endpoint $CS/api/messages (app ${settings.appId}, tenant ${settings.tenantId})`];
  return [TEAMS_OFF_LINE];
}

export const teamsModule: ServiceModule = {
  name: 'teams',
  // Known to the policy and directory loaders even while Teams is off.
  channels: [teamsChannel],
  async register(ctx: ServiceContext) {
    const settings = parseTeamsSettings(ctx.env);
    const logger = ctx.logger.child({ module: 'teams' });
    if (settings.mode === 'off') {
      logger.info('Teams channel off (set MICROSOFT_APP_ID, or TEAMS_DEV_MODE=1 for local development)');
      return;
    }
    if (settings.mode === 'dev') logger.warn(TEAMS_DEV_MODE_WARNING);

    const { wireTeams } = await import('./wiring.ts');
    wireTeams(ctx, settings, logger);
  },
};
