import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import { DomainError, type FieldIssue, type Person, type VoteDecision } from '@countersign/contracts';
import { buildCardModel, ChannelError, type ConfigView, type Gate } from '@countersign/core';
import { APPROVE_PREFIX, APPROVE_WITH_REASON_PREFIX, DENY_PREFIX, parseClick } from './blocks/card-blocks.ts';
import { clip, escapeText } from './blocks/mrkdwn.ts';
import { slackChannel } from './definition.ts';
import { REASON_ACTION_ID, REASON_BLOCK_ID, REASON_CALLBACK_ID, REASON_MAX, ReasonMetadataSchema, reasonModal, type ReasonMetadata } from './blocks/reason-modal.ts';
import { personForSlackUser, slackDirectory, type SlackUserRef } from './identity.ts';
import type { SlackApi } from './slack-api.ts';
import type { SlackSettings } from './settings.ts';

// Approve / Deny clicks and the reason modal. Every click is acknowledged first (Slack wants
// an answer within 3 s), then checked: workspace and identity here (approver checks 1–2), the
// rest by the engine: its dry run before a modal opens, the vote itself on submit. A refused
// click is answered with an ephemeral message that only the clicker sees, and nothing is
// recorded. The words of a refusal are the engine's; this file adds none of its own.

export interface InteractionDeps {
  gate: Gate;
  config: ConfigView;
  api: SlackApi;
  settings: SlackSettings;
  logger: Logger;
}

/** Slack's own limit on an action_id; a longer one is not from a card of ours. */
const ACTION_ID_MAX = 255;
/** The most characters of the engine's refusal shown in the ephemeral answer (it may quote the clicked id). */
const REFUSAL_MAX = 500;
/** What every action_id of ours starts with (card-blocks.ts). */
const OUR_PREFIX = 'countersign:';

/** Where the clicked card is: for the ephemeral answer. */
interface ClickSite {
  channel: string | null;
}

const CLICK = new RegExp(`^(${[APPROVE_PREFIX, APPROVE_WITH_REASON_PREFIX, DENY_PREFIX].map(escapeRegExp).join('|')})`);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const issue = (field: string, message: string): FieldIssue => ({ field, message });

/**
 * Whether Bolt could hand this body to one of our listeners: a click (Bolt takes any body
 * with `actions` for an action, whatever its `type`) or a modal submission. Such a body gets
 * interactionProblem's check whichever way it arrived (a form payload, a JSON body, any
 * Socket Mode envelope), so no vote comes from a payload that was not checked.
 */
export function mayReachListeners(body: Record<string, unknown>): boolean {
  return body.actions !== undefined || body.type === 'block_actions' || body.type === 'view_submission';
}

/**
 * What is wrong with an interaction payload (signed or sent over our Socket Mode connection,
 * so sent by Slack) that our listeners would otherwise fail on or silently not handle: a
 * click or a reason modal without the clicker, a click without its button, a countersign
 * button that names no known verb, actions on a payload that is not a click. Null when it is
 * well formed, or is a kind of interaction we do not handle (no listener then acknowledges
 * it). The HTTP receiver answers a problem with 400; the socket one acks and drops it.
 */
export function interactionProblem(payload: Record<string, unknown>): FieldIssue | null {
  const type = payload.type;
  if (typeof type !== 'string' || !type) return issue('payload.type', 'must name the interaction');
  // Bolt would take it for a click (and run our button listener) whatever its type says.
  if (payload.actions !== undefined && type !== 'block_actions') return issue('payload.type', 'must be block_actions when the payload carries actions');
  if (type !== 'block_actions' && type !== 'view_submission') return null;
  const user = payload.user;
  if (!isObject(user) || typeof user.id !== 'string' || !user.id) return issue('payload.user.id', 'must name the Slack user');
  if (user.team_id !== undefined && typeof user.team_id !== 'string') return issue('payload.user.team_id', 'must be a string');
  if (type === 'view_submission') {
    const view = payload.view;
    if (!isObject(view) || typeof view.callback_id !== 'string') return issue('payload.view.callback_id', 'must name the modal');
    if (view.callback_id !== REASON_CALLBACK_ID) return null;
    if (typeof view.private_metadata !== 'string') return issue('payload.view.private_metadata', 'must be a string');
    if (!isObject(view.state) || !isObject(view.state.values)) return issue('payload.view.state.values', 'must be an object');
    return null;
  }
  const actions = payload.actions;
  if (!Array.isArray(actions) || actions.length === 0) return issue('payload.actions', 'must be a non-empty list');
  for (const [i, action] of actions.entries()) {
    const id = isObject(action) ? action.action_id : undefined;
    if (typeof id !== 'string' || !id) return issue(`payload.actions.${i}.action_id`, 'must be a string');
    if (id.length > ACTION_ID_MAX) return issue(`payload.actions.${i}.action_id`, `must be at most ${ACTION_ID_MAX} characters`);
    if (id.startsWith(OUR_PREFIX) && !parseClick(id)) return issue(`payload.actions.${i}.action_id`, 'is not a countersign button');
    // A button's value is always a string in Slack's payloads (ours carry the action id).
    const value = (action as Record<string, unknown>).value;
    if (value !== undefined && typeof value !== 'string') return issue(`payload.actions.${i}.value`, 'must be a string');
  }
  return null;
}

function userOf(body: { user: { id: string; team_id?: string } }): SlackUserRef {
  return { id: body.user.id, teamId: body.user.team_id ?? null };
}

export function registerInteractions(bolt: App, deps: InteractionDeps): void {
  bolt.action<BlockAction<ButtonAction>>(CLICK, async ({ ack, body, action }) => {
    await ack();
    const parsed = parseClick(action.action_id);
    if (!parsed) return;
    const site: ClickSite = { channel: body.container?.channel_id ?? body.channel?.id ?? null };
    await onClick(deps, { ...parsed, user: userOf(body), site, triggerId: body.trigger_id });
  });

  bolt.view<ViewSubmitAction>(REASON_CALLBACK_ID, async ({ ack, body, view }) => {
    const meta = ReasonMetadataSchema.safeParse(safeJson(view.private_metadata));
    if (!meta.success) {
      await ack();
      deps.logger.error('Slack reason modal submitted without valid metadata; ignored');
      return;
    }
    const reason = (view.state.values[REASON_BLOCK_ID]?.[REASON_ACTION_ID]?.value ?? '').trim();
    // Answered inside the modal: the reviewer fixes it without losing what they typed.
    if (!reason) return void (await ack({ response_action: 'errors', errors: { [REASON_BLOCK_ID]: 'A reason is required.' } }));
    if (reason.length > REASON_MAX) return void (await ack({ response_action: 'errors', errors: { [REASON_BLOCK_ID]: `At most ${REASON_MAX} characters.` } }));
    await ack();
    await castSlackVote(deps, userOf(body), meta.data, reason);
  });

  // Anything a listener lets escape is logged here, never rethrown into the receiver.
  bolt.error(async (err) => {
    deps.logger.error({ err: err.message, code: err.code }, 'Slack interaction failed');
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function onClick(
  deps: InteractionDeps,
  click: { user: SlackUserRef; actionId: string; decision: VoteDecision; needsReason: boolean; site: ClickSite; triggerId: string },
): Promise<void> {
  const { user, actionId, decision, site } = click;
  try {
    const person = await personForSlackUser(deps, user);
    if (!click.needsReason) return await vote(deps, person, user, { actionId, decision, reason: null });
    // Nobody types a reason for a click the engine would refuse anyway: ask it first. Advisory
    // only: the submit is a real vote and checks everything again.
    const check = await deps.gate.checkVote({ actionId, personId: person.id, decision, reason: undefined, identity: slackIdentity(user) });
    if (!check.allowed) throw check.refusal;
    const action = check.action;
    const meta: ReasonMetadata = { actionId, decision, channel: site.channel };
    await deps.api.call('views.open', (c) => c.views.open({ trigger_id: click.triggerId, view: reasonModal(meta, buildCardModel(action, [], slackDirectory(deps.config)).title) }));
  } catch (err) {
    await refuse(deps, user, site, err);
  }
}

async function castSlackVote(deps: InteractionDeps, user: SlackUserRef, meta: ReasonMetadata, reason: string): Promise<void> {
  const site: ClickSite = { channel: meta.channel };
  try {
    const person = await personForSlackUser(deps, user);
    await vote(deps, person, user, { actionId: meta.actionId, decision: meta.decision, reason });
  } catch (err) {
    await refuse(deps, user, site, err);
  }
}

/**
 * The vote itself: the engine checks the rest (self-approval, roles, slots, one vote each,
 * expiry) in one Postgres transaction. Cards are not touched here: the vote's outbox event
 * makes the queue update every card of the action, the clicked one included.
 */
async function vote(deps: InteractionDeps, person: Person, user: SlackUserRef, req: { actionId: string; decision: VoteDecision; reason: string | null }): Promise<void> {
  // The evidence names the Slack account that clicked (its workspace was checked above).
  const account = { ...(user.teamId ? { teamId: user.teamId } : {}), userId: user.id };
  const result = await deps.gate.vote({ actionId: req.actionId, personId: person.id, channel: 'slack', decision: req.decision, reason: req.reason, account, identity: slackIdentity(user) });
  deps.logger.info({ actionId: req.actionId, personId: person.id, decision: req.decision, decided: result.decided }, 'Slack vote recorded');
}

/** The clicking account as a party binding names it (`slack:<user id>`, the directory's key). */
function slackIdentity(user: SlackUserRef): string {
  return `${slackChannel.name}:${user.id}`;
}

/** Tells only the clicker why nothing was recorded. */
async function refuse(deps: InteractionDeps, user: SlackUserRef, site: ClickSite, err: unknown): Promise<void> {
  let text: string;
  if (err instanceof DomainError) {
    // The engine's words, clipped: a refusal may quote the clicked id ("No action …").
    text = `:no_entry_sign: ${clip(escapeText(err.message), REFUSAL_MAX)}`;
    deps.logger.info({ code: err.code, slackUser: user.id }, 'Slack click refused');
  } else if (err instanceof ChannelError) {
    // Slack failed us before any vote was attempted (users.info, views.open): nothing recorded.
    text = ':warning: Slack could not complete this step just now; nothing was recorded. Please try again.';
  } else {
    text = ':warning: Your vote could not be processed just now and may not have been recorded. Check the card and try again.';
    deps.logger.error({ err: (err as Error).message, slackUser: user.id }, 'Slack click failed');
  }
  try {
    if (site.channel) {
      await deps.api.call('chat.postEphemeral', (c) => c.chat.postEphemeral({ channel: site.channel!, user: user.id, text }));
    } else {
      const dm = await deps.api.call('conversations.open', (c) => c.conversations.open({ users: user.id }));
      if (dm.channel?.id) await deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel: dm.channel!.id!, text }));
    }
  } catch {
    // SlackApi has logged the failure; the refusal itself stands (nothing was recorded).
  }
}
