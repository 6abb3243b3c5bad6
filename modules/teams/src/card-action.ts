import type { Activity, AdaptiveCardInvokeResponse } from 'botbuilder';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DomainError, type Person } from '@countersign/contracts';
import { buildCardModel, type ActionReads, type ActionRecord, type Caller, type ConfigView, type Gate, type GateStore } from '@countersign/core';
import { ADAPTIVE_CARD_CONTENT_TYPE, APPROVE_REASON_INPUT, buildAdaptiveCard, buildWithheldCard, DENY_REASON_INPUT, formatTime, type CardView } from './cards/adaptive-card.ts';
import { identifyClicker, MESSAGES, sameTenant, teamsDirectory, type RosterMember } from './identity.ts';
import { teamsChannel } from './definition.ts';

// An `adaptiveCard/action` invoke: Approve, Deny (Universal Actions) or a refresh. Identity is
// the activity's (already authenticated by the SDK); the decision is the engine's: its vote on
// a click, its dry run on a refresh (what this viewer may still do). Whatever happens, the
// clicking user gets an answer: the card as it now is, with a message for them alone, in the
// engine's words. A refused click records nothing.
//
// The answer is the whole action (amount, IBAN, justification, votes), and anyone in the tenant
// can send an invoke naming any action id. So the card goes only to a person the HTTP API would
// let read the action (the same rule, ActionReads.may); anyone else, and anyone we cannot map
// to a directory person, gets a card that says nothing about the action, the same whether the
// action exists or not (the API's not_found is no oracle either).

export interface CardActionDeps {
  gate: Gate;
  store: GateStore;
  config: ConfigView;
  tenantId: string;
  logger: Logger;
  /** Who may read an action: the API's rule (GET /v1/actions/:id), never a copy of it. */
  mayRead: ActionReads['may'];
}

const DataSchema = z.looseObject({
  actionId: z.string().min(1).max(200),
  [APPROVE_REASON_INPUT]: z.string().max(2000).optional(),
  [DENY_REASON_INPUT]: z.string().max(2000).optional(),
});

const NOTICE_TONE: Partial<Record<string, 'attention' | 'warning'>> = {
  already_voted: 'warning',
  already_decided: 'warning',
  expired: 'warning',
};

const NOT_RECORDED = 'Your click was not recorded.';

function error(statusCode: number, code: string, message: string): AdaptiveCardInvokeResponse {
  return { statusCode, type: 'application/vnd.microsoft.error', value: { code, message } };
}

function card(value: Record<string, unknown>): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value };
}

function reasonOf(data: z.output<typeof DataSchema>, verb: 'approve' | 'deny'): string | null {
  const raw = verb === 'approve' ? data[APPROVE_REASON_INPUT] : data[DENY_REASON_INPUT];
  const trimmed = typeof raw === 'string' ? raw.trim() : '';
  return trimmed === '' ? null : trimmed;
}

/** The Teams user as the read rule sees a caller: their directory principal (no API key behind it). */
function callerFor(deps: CardActionDeps, person: Person, aadObjectId: string): Caller | null {
  const principal = deps.config.current().directory.principal(person.id);
  if (!principal || principal.kind !== 'person') return null;
  return { keyId: `teams:${aadObjectId}`, principal, canDelegate: false, delegateFor: [] };
}

/** The action if `person` may read it by the API's rule; null when not, or when there is none. */
async function readableBy(deps: CardActionDeps, actionId: string, person: Person, aadObjectId: string): Promise<ActionRecord | null> {
  const action = await deps.store.findAction(actionId);
  const caller = callerFor(deps, person, aadObjectId);
  return action && caller && deps.mayRead(action, caller) ? action : null;
}

export async function answerCardAction(
  deps: CardActionDeps,
  input: { activity: Partial<Activity>; verb: string | undefined; data: unknown; roster: () => Promise<RosterMember | null> },
): Promise<AdaptiveCardInvokeResponse> {
  const { activity } = input;
  // Before anything else, and before any card content is shown: only our tenant.
  if (!sameTenant(activity, deps.tenantId)) return error(403, 'Forbidden', MESSAGES.wrongTenant);
  const verb = input.verb;
  if (verb !== 'approve' && verb !== 'deny' && verb !== 'refresh') return error(400, 'NotSupported', `Unknown card action "${String(verb)}".`);
  const parsed = DataSchema.safeParse(input.data);
  if (!parsed.success) return error(400, 'BadRequest', 'The card action carries no valid action id.');
  const data = parsed.data;

  const render = async (view: CardView): Promise<AdaptiveCardInvokeResponse> => {
    const action = await deps.store.findAction(data.actionId);
    if (!action) return card(buildWithheldCard());
    const votes = await deps.store.votesFor(action.id);
    const model = buildCardModel(action, votes, deps.config.current().directory);
    return card(buildAdaptiveCard(model, view));
  };

  // A refresh shows the action as fully as a click's answer does, so it needs the same proof of
  // who is looking (the roster too, for a member the directory knows by email only).
  const directory = teamsDirectory(deps.config.current().directory);
  const who = await identifyClicker({ activity, tenantId: deps.tenantId, directory, roster: input.roster });
  if ('refused' in who) {
    deps.logger.warn({ actionId: data.actionId, verb, code: who.code }, 'Teams card action refused: identity');
    if (who.code === 'wrong_tenant') return error(403, 'Forbidden', who.refused);
    return card(buildWithheldCard({ text: who.refused, tone: 'attention' }));
  }
  const aad = String(activity.from?.aadObjectId ?? '').toLowerCase();
  if (!(await readableBy(deps, data.actionId, who.person, aad))) {
    deps.logger.info({ actionId: data.actionId, personId: who.person.id, verb }, 'Teams card withheld: not a reader of this action');
    return card(buildWithheldCard(verb === 'refresh' ? undefined : { text: NOT_RECORDED, tone: 'attention' }));
  }

  // The clicking account itself: a party's account is refused whoever the directory says it is now.
  const identity = aad ? `${teamsChannel.name}:${aad}` : undefined;
  if (verb === 'refresh') return render(await viewFor(deps, data.actionId, who.person.id, identity));

  try {
    // The evidence names the Teams account that clicked: our tenant (checked) and its AAD object id.
    const account = { tenantId: deps.tenantId, aadObjectId: aad };
    const result = await deps.gate.vote({ actionId: data.actionId, personId: who.person.id, channel: 'teams', decision: verb, reason: reasonOf(data, verb), account, identity });
    deps.logger.info({ actionId: data.actionId, personId: who.person.id, decision: verb, decided: result.decided }, 'Teams vote recorded');
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    deps.logger.info({ actionId: data.actionId, personId: who.person.id, code: err.code }, 'Teams vote refused by the engine');
    if (err.code === 'not_found') return card(buildWithheldCard({ text: NOT_RECORDED, tone: 'attention' }));
    return render({ notice: { text: err.message, tone: NOTICE_TONE[err.code] ?? 'attention' } });
  }
  return render({
    hideActions: true,
    notice: { text: verb === 'approve' ? 'Your approval is recorded.' : 'Your denial is recorded.', tone: 'good' },
  });
}

/**
 * What a known viewer's copy of the card offers, from the engine's dry run (the same checks
 * as the vote): the buttons while a decision of theirs would count, else the engine's reason
 * in place of the buttons, so nobody is shown a reason prompt for a click that cannot count.
 */
async function viewFor(deps: CardActionDeps, actionId: string, personId: string, identity: string | undefined): Promise<CardView> {
  const approve = await deps.gate.checkVote({ actionId, personId, decision: 'approve', reason: undefined, identity });
  if (approve.allowed) return {};
  const refusal = approve.refusal;
  if (refusal.code === 'already_voted') {
    const mine = (await deps.store.votesFor(actionId)).find((v) => v.personId === personId);
    if (mine) {
      return {
        hideActions: true,
        notice: { text: `You ${mine.decision === 'approve' ? 'approved' : 'denied'} this at ${formatTime(mine.createdAt.toISOString())}.`, tone: 'default' },
      };
    }
  }
  const notice = { text: refusal.message, tone: NOTICE_TONE[refusal.code] ?? ('attention' as const) };
  // Slots taken for their roles may still leave them a deny: keep the buttons then.
  const deny = await deps.gate.checkVote({ actionId, personId, decision: 'deny', reason: undefined, identity });
  return deny.allowed ? { notice } : { hideActions: true, notice };
}

/** Any unexpected failure still answers the click (Teams otherwise shows a bare error). */
export async function answerCardActionSafely(
  deps: CardActionDeps,
  input: Parameters<typeof answerCardAction>[1],
): Promise<AdaptiveCardInvokeResponse> {
  try {
    return await answerCardAction(deps, input);
  } catch (err) {
    deps.logger.error({ err: (err as Error).message }, 'Teams card action failed');
    return error(500, 'InternalError', 'countersign could not process your click right now; try again in a moment.');
  }
}
