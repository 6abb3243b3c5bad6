export { teamsModule, teamsFirstScreenLines, TEAMS_DEV_MODE_WARNING, TEAMS_OFF_LINE } from './module.ts';
export { teamsChannel, teamsIdOf, TeamsIdentitySchema, type TeamsIdentity } from './definition.ts';
export { TeamsChannel, type TeamsCardRef, type TeamsChannelDeps } from './channel.ts';
export { buildAdaptiveCard, cardAttachment, ADAPTIVE_CARD_CONTENT_TYPE, CARD_VERSION, APPROVE_REASON_INPUT, DENY_REASON_INPUT, type CardView } from './cards/adaptive-card.ts';
export { parseTeamsSettings, type TeamsSettings } from './settings.ts';
export { toChannelError } from './errors.ts';
export { resolveTeamsTargets } from './targets.ts';
export { ConversationStore, recordFromActivity, tenantOf, type ConversationRecord } from './conversations.ts';
