import { createHmac, randomBytes } from 'node:crypto';

// What Slack sends to POST /slack/events when someone clicks a button or submits a modal:
// a form body `payload=<json>`, signed with the app's signing secret (HMAC-SHA256 over
// `v0:<timestamp>:<body>`). Factories take overrides, like Bolt's own test helpers.

export interface Clicker {
  /** Slack user id. */
  id: string;
  /** The user's own workspace. */
  teamId: string;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function formBody(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export interface BlockActionOptions {
  user: Clicker;
  /** The workspace where the click happened (a shared channel's host may differ from the user's). */
  teamId?: string;
  decision: 'approve' | 'deny';
  actionId: string;
  channel: string;
  messageTs: string;
  triggerId?: string;
  /** The button's action_id as rendered on the card; default `countersign:<decision>:<id>`. */
  button?: string;
}

export function blockActionPayload(o: BlockActionOptions): Record<string, unknown> {
  const actionIdValue = o.button ?? `countersign:${o.decision}:${o.actionId}`;
  return {
    type: 'block_actions',
    user: { id: o.user.id, username: o.user.id.toLowerCase(), name: o.user.id.toLowerCase(), team_id: o.user.teamId },
    api_app_id: 'A0APP00001',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false },
    trigger_id: o.triggerId ?? `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: o.teamId ?? o.user.teamId, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: 'approvals' },
    message: { type: 'message', ts: o.messageTs, text: 'card' },
    response_url: 'http://127.0.0.1:9/response-url-not-used',
    actions: [
      {
        type: 'button',
        block_id: `countersign:decide:${o.actionId}`,
        action_id: actionIdValue,
        value: o.actionId,
        text: { type: 'plain_text', text: o.decision === 'approve' ? 'Approve' : 'Deny' },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

export interface ViewSubmissionOptions {
  user: Clicker;
  teamId?: string;
  /** The modal's private_metadata as countersign set it (taken from the views.open call). */
  privateMetadata: string;
  reason: string;
  callbackId?: string;
}

export function viewSubmissionPayload(o: ViewSubmissionOptions): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: o.teamId ?? o.user.teamId, domain: 'fake' },
    user: { id: o.user.id, username: o.user.id.toLowerCase(), name: o.user.id.toLowerCase(), team_id: o.user.teamId },
    api_app_id: 'A0APP00001',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    view: {
      id: 'V0VIEW0001',
      team_id: o.teamId ?? o.user.teamId,
      type: 'modal',
      callback_id: o.callbackId ?? 'countersign:reason',
      private_metadata: o.privateMetadata,
      state: { values: { reason: { reason: { type: 'plain_text_input', value: o.reason } } } },
      hash: 'h',
      app_id: 'A0APP00001',
      bot_id: 'B0BOT00001',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export interface PostOptions {
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replaces the computed signature (forgeries). */
  signature?: string;
  contentType?: string;
}

/** POSTs a raw body to /slack/events, signed as Slack would. */
export async function postSigned(baseUrl: string, secret: string, body: string, o: PostOptions = {}): Promise<{ status: number; text: string }> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': o.signature ?? slackSignature(secret, timestamp, body),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** Clicks a card's button: signed block_actions form post. */
export function click(baseUrl: string, secret: string, o: BlockActionOptions, post: PostOptions = {}) {
  return postSigned(baseUrl, secret, formBody(blockActionPayload(o)), post);
}

/** Submits the reason modal: signed view_submission form post. */
export function submitReason(baseUrl: string, secret: string, o: ViewSubmissionOptions, post: PostOptions = {}) {
  return postSigned(baseUrl, secret, formBody(viewSubmissionPayload(o)), post);
}

/** One interaction payload of the wrong shape, and the field the refusal names. */
export interface MalformedInteraction {
  name: string;
  payload: Record<string, unknown>;
  field: string;
}

/**
 * Interaction payloads whose shape is wrong, built from a well-formed click on `actionId` and a
 * well-formed reason-modal submission for it: refused alike over HTTP (400) and Socket Mode
 * (acked, dropped). Each would otherwise reach a listener, fail in it, or be taken for a click.
 */
export function malformedInteractions(o: { user: Clicker; actionId: string; channel: string; messageTs: string }): MalformedInteraction[] {
  const click = blockActionPayload({ user: o.user, decision: 'approve', actionId: o.actionId, channel: o.channel, messageTs: o.messageTs });
  const button = (click.actions as Record<string, unknown>[])[0]!;
  const withButton = (change: Record<string, unknown>) => ({ ...click, actions: [{ ...button, ...change }] });
  const modal = viewSubmissionPayload({ user: o.user, privateMetadata: JSON.stringify({ actionId: o.actionId, decision: 'deny', channel: o.channel }), reason: 'no' });
  const { state: _state, ...viewWithoutState } = modal.view as Record<string, unknown>;
  const { user: _user, ...modalWithoutUser } = modal;
  const { view: _view, ...modalWithoutView } = modal;
  const { user: _clicker, ...clickWithoutUser } = click;
  return [
    { name: 'no type', payload: { ...click, type: undefined }, field: 'payload.type' },
    { name: 'a click whose type is not block_actions', payload: { ...click, type: 'interactive_message' }, field: 'payload.type' },
    { name: 'block_actions with neither user nor actions', payload: { type: 'block_actions' }, field: 'payload.user.id' },
    { name: 'user missing', payload: clickWithoutUser, field: 'payload.user.id' },
    { name: 'user null', payload: { ...click, user: null }, field: 'payload.user.id' },
    { name: 'user id not a string', payload: { ...click, user: { ...(click.user as object), id: 7 } }, field: 'payload.user.id' },
    { name: 'user team_id not a string', payload: { ...click, user: { ...(click.user as object), team_id: ['T0TEAM0001'] } }, field: 'payload.user.team_id' },
    { name: 'actions empty', payload: { ...click, actions: [] }, field: 'payload.actions' },
    { name: 'actions not a list', payload: { ...click, actions: button }, field: 'payload.actions' },
    { name: 'action_id not a string', payload: withButton({ action_id: 42 }), field: 'payload.actions.0.action_id' },
    { name: 'an action value that is not a string', payload: withButton({ value: { actionId: o.actionId } }), field: 'payload.actions.0.value' },
    { name: 'a countersign verb that does not exist', payload: withButton({ action_id: `countersign:obliterate:${o.actionId}` }), field: 'payload.actions.0.action_id' },
    { name: 'an action_id longer than Slack allows', payload: withButton({ action_id: `countersign:approve:${'x'.repeat(200_000)}` }), field: 'payload.actions.0.action_id' },
    { name: 'a view_submission with no view', payload: modalWithoutView, field: 'payload.view.callback_id' },
    { name: 'our modal submitted without its state', payload: { ...modal, view: viewWithoutState }, field: 'payload.view.state.values' },
    { name: 'our modal submitted without a user', payload: modalWithoutUser, field: 'payload.user.id' },
  ];
}
