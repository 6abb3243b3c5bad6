export { slackModule } from './slack-module.ts';
export { slackChannel, slackUserIdOf, SlackIdentitySchema, type SlackIdentity } from './definition.ts';
export { SlackChannel, type SlackCardRef } from './slack-channel.ts';
export { renderCard, reminderText, reminderBlocks, noticeBlocks, APPROVE_PREFIX, APPROVE_WITH_REASON_PREFIX, DENY_PREFIX, parseClick, type Click, LIMITS, type RenderedCard } from './blocks/card-blocks.ts';
export { reasonModal, REASON_CALLBACK_ID, REASON_BLOCK_ID, REASON_ACTION_ID } from './blocks/reason-modal.ts';
export { parseSlackSettings, type SlackSettings } from './settings.ts';
export { toChannelError } from './slack-errors.ts';
export { SLACK_EVENTS_PATH } from './paths.ts';
