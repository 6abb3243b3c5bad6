import { canonicalJson, intentHash as hashIntent, sha256Hex } from '@countersign/evidence';
import {
  DomainError,
  IntentSchema,
  randomId,
  type ActionStatus,
  type ArtifactEvent,
  type GateEvent,
  type Intent,
  type SealedArtifact,
  type Verdict,
} from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import { ABSENT_BINDING, inDelegationScope } from '../keys/delegation-scope.ts';
import type { DirectoryView } from '../config-view.ts';
import { partyEntries, personIdentities, type PartyRole } from '../party-bindings.ts';
import type { Caller } from '../keys/key-service.ts';
import { UniqueViolation } from '../ports.ts';
import type { GateDeps } from './deps.ts';
import { zodIssues } from './zod-issues.ts';

export interface SubmitRequest {
  caller: Caller;
  body: unknown;
  idempotencyKey?: string;
}

export interface SubmitResult {
  action: ActionRecord;
  artifact: SealedArtifact;
  /** True when an Idempotency-Key replay returned the first result. */
  replayed: boolean;
}

const STATUS_FOR: Record<'approve' | 'refuse' | 'escalate', ActionStatus> = {
  approve: 'approved',
  refuse: 'refused',
  escalate: 'pending',
};

export async function submitIntent(deps: GateDeps, req: SubmitRequest): Promise<SubmitResult> {
  const parsed = IntentSchema.safeParse(req.body);
  if (!parsed.success) {
    throw new DomainError('invalid_intent', 'The intent is not valid.', { issues: zodIssues(parsed.error) });
  }
  const intent: Intent = parsed.data;
  // Only an Idempotency-Key replay compares request bodies: hash the body only then.
  const requestHash = req.idempotencyKey ? sha256Hex(canonicalJson(req.body)) : null;

  if (req.idempotencyKey) {
    const previous = await deps.store.findByIdempotencyKey(req.caller.keyId, req.idempotencyKey);
    if (previous) return replay(deps, previous, requestHash!);
  }

  const { policy, directory } = deps.config.current();
  // Who acts is the key's principal, re-read from the directory; never the payload.
  const actor = directory.actorOf(req.caller.principal.id);
  if (!actor) throw new DomainError('unknown_principal', 'The API key belongs to no current directory principal.');

  if (intent.onBehalfOf !== undefined) {
    if (!req.caller.canDelegate) {
      throw new DomainError('delegation_not_allowed', 'This API key may not act on behalf of others.', {
        issues: [{ field: 'onBehalfOf', message: 'the key is not allowed to delegate' }],
      });
    }
    const onBehalfOf = directory.person(intent.onBehalfOf);
    if (!onBehalfOf) {
      throw new DomainError('invalid_intent', 'onBehalfOf must name a person in the directory.', {
        issues: [{ field: 'onBehalfOf', message: `no person "${intent.onBehalfOf}" in the directory` }],
      });
    }
    // Naming someone makes them the requester: they are told, and they may not approve it. A key
    // acts only for whom it was made for. A delegate key from before scopes existed has an empty
    // scope and is refused, not grandfathered: "anyone" is exactly what lets an agent disqualify
    // an approver or put its words in a DM to them, and re-issuing with --for is one command.
    if (!inDelegationScope(req.caller.delegateFor, onBehalfOf, req.caller.delegateBindings)) {
      const why = req.caller.delegateFor.length === 0
        ? 'the key predates delegation scopes; re-issue it with --for'
        : req.caller.delegateFor.includes(onBehalfOf.id)
          ? (req.caller.delegateBindings ?? []).includes(`${onBehalfOf.id}=${ABSENT_BINDING}`)
            ? `"${intent.onBehalfOf}" was not in the directory when the key was bound; re-issue it with --for`
            : `"${intent.onBehalfOf}" is no longer the person the key was made to act for (the directory changed who holds that id)`
          : `"${intent.onBehalfOf}" is outside the key's delegation scope`;
      throw new DomainError('delegation_not_allowed', 'This API key may not act on behalf of this person.', {
        issues: [{ field: 'onBehalfOf', message: why }],
      });
    }
  }

  // Says why, never what is allowed: the allow-list is the organisation's, not the caller's.
  const callbackProblem = intent.callbackUrl === undefined ? null : deps.destinations.check(intent.callbackUrl);
  if (callbackProblem !== null) {
    throw new DomainError('invalid_intent', 'callbackUrl is not an allowed destination.', { issues: [{ field: 'callbackUrl', message: callbackProblem }] });
  }

  const now = deps.clock.now();
  const verdict = failClosed(policy.evaluate({ intent, actor, now }));
  const intentHash = hashIntent(intent);
  // A refusal keeps what escalate rules that also matched ask for: an override escalates to it.
  const requirement = verdict.outcome === 'escalate' ? verdict.requirement! : (verdict.requirementAfterOverride ?? null);

  const action: ActionRecord = {
    id: randomId('act'),
    status: STATUS_FOR[verdict.outcome],
    outcome: verdict.outcome,
    actorId: actor.id,
    actorKind: actor.kind,
    ownerId: actor.owner,
    onBehalfOf: intent.onBehalfOf ?? null,
    apiKeyId: req.caller.keyId,
    intent,
    intentHash,
    actionType: intent.action.type,
    policyDigest: verdict.policyDigest,
    ruleIds: verdict.ruleIds,
    reasons: verdict.reasons,
    requirement,
    overrideRoles: verdict.overrideRoles ?? [],
    expiresAt: verdict.outcome === 'escalate' ? new Date(now.getTime() + requirement!.expiresInSeconds * 1000) : null,
    createdAt: now,
    decidedAt: verdict.outcome === 'escalate' ? null : now,
    decidedBy: verdict.outcome === 'escalate' ? null : 'policy',
    decisionReason: verdict.outcome === 'escalate' ? null : (verdict.reasons.join('; ') || null),
    overriddenBy: null,
    overrideReason: null,
    idempotencyKey: req.idempotencyKey ?? null,
    requestHash,
    partyBindings: partyBindingsOf(directory, actor, intent.onBehalfOf ?? null),
  };

  const actorRef = { kind: actor.kind, id: actor.id };
  const events: GateEvent[] = [];
  let first: ArtifactEvent;
  if (verdict.outcome === 'escalate') {
    events.push({ type: 'action.escalated', actionId: action.id });
    first = {
      kind: 'action.escalated',
      actionId: action.id,
      intentHash,
      actionType: action.actionType,
      actor: actorRef,
      onBehalfOf: action.onBehalfOf,
      owner: action.ownerId,
      policyDigest: verdict.policyDigest,
      ruleIds: verdict.ruleIds,
      reasons: verdict.reasons,
      requirement,
      expiresAt: action.expiresAt!.toISOString(),
    };
  } else {
    // Automatic decisions answer the caller directly; only a webhook needs to hear of them.
    if (intent.callbackUrl) {
      events.push({ type: 'action.decided', actionId: action.id, status: action.status as 'approved' | 'refused', automatic: true, override: false });
    }
    first = {
      kind: 'action.decided',
      actionId: action.id,
      intentHash,
      actionType: action.actionType,
      status: action.status as 'approved' | 'refused',
      decidedBy: 'policy',
      actor: actorRef,
      onBehalfOf: action.onBehalfOf,
      policyDigest: verdict.policyDigest,
      ruleIds: verdict.ruleIds,
      reasons: verdict.reasons,
      approvers: [],
    };
  }

  try {
    // The action, its outbox events and its artifact commit together (the store may group
    // concurrent submissions into one transaction; each still has its own artifact).
    const artifact = await deps.store.insertNewAction({ action, events, artifact: first });
    return { action, artifact, replayed: false };
  } catch (err) {
    // Two requests raced with one Idempotency-Key: the loser answers with the winner's result.
    if (err instanceof UniqueViolation && req.idempotencyKey) {
      const winner = await deps.store.findByIdempotencyKey(req.caller.keyId, req.idempotencyKey);
      if (winner) return replay(deps, winner, requestHash!);
    }
    throw err;
  }
}

/**
 * Who may not approve this action because of who they are, bound to the person rather than the
 * id (party-bindings.ts): the requester when a person and the person it is on behalf of
 * (`party`), the agent's owner (`owner`: refused unless the rule lets owners approve, and never
 * as an overrider). The vote-time checks compare ids as well, so a party the directory cannot
 * resolve here is still refused under their id.
 */
function partyBindingsOf(
  directory: Pick<DirectoryView, 'person' | 'identitiesOf'>,
  actor: { kind: 'person' | 'agent'; id: string; owner: string | null },
  onBehalfOf: string | null,
): string[] {
  const out = new Set<string>();
  const add = (role: PartyRole, id: string | null) => {
    const person = id === null ? undefined : directory.person(id);
    if (person) for (const entry of partyEntries(role, personIdentities(directory, person))) out.add(entry);
  };
  add('party', actor.kind === 'person' ? actor.id : null);
  add('party', onBehalfOf);
  add('owner', actor.owner);
  return [...out];
}

/**
 * An escalation without a requirement names nobody who could approve it, so it would hang
 * until nothing: the action is refused instead (fail closed), with the reason on record.
 */
function failClosed(verdict: Verdict): Verdict {
  if (verdict.outcome !== 'escalate' || verdict.requirement) return verdict;
  return {
    outcome: 'refuse',
    ruleIds: verdict.ruleIds,
    reasons: [...verdict.reasons, 'escalated without an approval requirement: refused (fail closed)'],
    policyDigest: verdict.policyDigest,
  };
}

async function replay(deps: GateDeps, previous: ActionRecord, requestHash: string): Promise<SubmitResult> {
  if (previous.requestHash !== requestHash) {
    throw new DomainError('idempotency_conflict', 'This Idempotency-Key was already used with a different request body.', {
      extra: { actionId: previous.id },
    });
  }
  const artifact = await deps.store.latestArtifactFor(previous.id);
  if (!artifact) throw new DomainError('internal', 'Action without artifact.');
  return { action: previous, artifact, replayed: true };
}
