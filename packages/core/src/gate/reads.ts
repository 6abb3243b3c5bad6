import { DomainError, type ErrorCode, type SealedArtifact } from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import { redactIntent } from '../cards/redact.ts';
import type { Caller } from '../keys/key-service.ts';
import type { ActionDetail, ActionFilter, ActionSearchStore } from '../read-ports.ts';
import { isAuditor, readAccess, seesUnredacted, type ReadPolicy } from './access.ts';
import { whoCanStillFill } from './awaiting.ts';
import type { GateDeps } from './deps.ts';
import { load, viewFrom, waitUntilDecided, watchDecision } from './read.ts';
import { listActions, type ActionPage, type ListRequest } from './search.ts';
import { buildTimeline } from './timeline.ts';
import type { ActionView } from './view.ts';

/** What an export record says was approved: the action as its approvers saw it. */
export interface ActionSubject {
  actionType: string;
  resource: string | null;
  summary: string | null;
  /** The params, redacted by the rule unless the reader may see them unredacted. */
  params: Record<string, unknown>;
  status: string;
  requester: string;
  onBehalfOf: string | null;
  decidedBy: string | null;
}

/**
 * The read side of the engine: one action with everything a reviewer or auditor needs, lists
 * and inboxes, evidence, and what exports say about each action. Who reads what is decided
 * here (access.ts), never in a route or the console.
 */
/** Refusals about the caller or the request, not the action: they stay as they are. */
const KEPT_REFUSALS = new Set<ErrorCode>([
  'not_found',
  'unauthenticated',
  'unknown_identity',
  'invalid_request',
  'invalid_intent',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
]);

export class ActionReads {
  readonly may: (action: ActionRecord, caller: Caller) => boolean;

  constructor(
    readonly deps: GateDeps,
    readonly store: ActionSearchStore,
    readonly policy: ReadPolicy,
  ) {
    this.may = (action, caller) => readAccess(action, caller, policy) !== null;
  }

  /**
   * What a refused decision (vote, cancel, override) tells its caller. A refusal must not say
   * more than reading would: to someone who may not read the action, its requirement ("needs
   * sre-lead + security") or its status ("already cancelled") is `not_found`, as GET answers.
   * Asked only once something refused, so a decision that goes through costs no extra read.
   */
  async refusalFor(err: unknown, id: string, caller: Caller): Promise<unknown> {
    if (!(err instanceof DomainError) || KEPT_REFUSALS.has(err.code)) return err;
    const action = await this.deps.store.findAction(id);
    return action && this.may(action, caller) ? err : new DomainError('not_found', `No action ${id}.`);
  }

  /** GET /v1/actions/:id (optionally long-polling), with intent, progress, who can decide and timeline. */
  async read(id: string, caller: Caller, wait?: { seconds: number; signal?: AbortSignal }): Promise<ActionView> {
    // A long-poll listens for the decision before its first read (one read, no second look).
    const watch = wait && wait.seconds > 0 ? watchDecision(this.deps, id) : undefined;
    let loaded: ActionRecord;
    try {
      loaded = await load(this.deps, id, caller, this.may);
      if (watch) await waitUntilDecided(this.deps, loaded, wait!.seconds, wait!.signal, watch);
    } finally {
      watch?.stop();
    }
    // Everything the answer shows, in one read, as it is now (after the wait); after a wait,
    // with whether the caller's key is still good.
    const waited = !!wait && wait.seconds > 0 && !caller.keyId.startsWith('session:');
    const detail = await this.store.detailOf(id, waited ? { apiKeyId: caller.keyId } : undefined);
    if (!detail) throw new DomainError('not_found', `No action ${id}.`);
    const { action, votes, artifacts, facts } = detail;
    // A long wait outlives the authentication it started with: a key revoked meanwhile gets no
    // release token (nor anything else) from its answer.
    if (waited && action.status !== loaded!.status && detail.apiKeyActive !== true) {
      throw new DomainError('unauthenticated', 'This API key has been revoked.');
    }
    const view = await viewFrom(this.deps, action, action.requirement ? votes : [], artifacts.at(-1) ?? null, caller);
    return this.detail(view, action, caller, { votes, artifacts, facts });
  }

  private async detail(view: ActionView, action: ActionRecord, caller: Caller, read: Omit<ActionDetail, 'action'>): Promise<ActionView> {
    const access = readAccess(action, caller, this.policy)!;
    const redact = access.unredacted ? [] : (action.requirement?.redact ?? []);
    const now = this.deps.clock.now();
    const { votes, artifacts, facts } = read;
    return {
      ...view,
      intent: redactIntent(action.intent, redact),
      redacted: redact,
      ...(access.unredacted ? { normalizedIntent: action.intent } : {}),
      ...(action.status === 'pending' && action.requirement ? { canStillDecide: await whoCanStillFill(this.deps.config, action, votes, now) } : {}),
      timeline: buildTimeline(action, votes, artifacts, facts, now),
    };
  }

  list(req: ListRequest): Promise<ActionPage> {
    return listActions(this.deps, this.store, this.policy, req);
  }

  /**
   * The action's artifacts and, for each, the artifact just before it in the chain, so a
   * verifier (the console's Verify button) can check every signature, hash and link.
   */
  async evidence(id: string, caller: Caller): Promise<{ artifacts: SealedArtifact[]; predecessors: SealedArtifact[] }> {
    await load(this.deps, id, caller, this.may);
    const artifacts = await this.store.artifactsOf(id);
    const have = new Set(artifacts.map((a) => a.seq));
    const wanted = artifacts.map((a) => a.seq - 1).filter((s) => s >= 1 && !have.has(s));
    return { artifacts, predecessors: await this.store.artifactsAt(wanted) };
  }

  /** Ids of every action matching `filter`: what a filtered export covers (auditors only). */
  async *matchingIds(caller: Caller, filter: ActionFilter): AsyncGenerator<string> {
    this.assertAuditor(caller);
    let cursor: string | undefined;
    do {
      const page = await this.list({ caller, filter, limit: 200, ...(cursor ? { cursor } : {}) });
      for (const item of page.items) yield item.id;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** What each exported record says was approved, looked up once per action. */
  subjects(caller: Caller): (actionId: string) => Promise<ActionSubject | null> {
    this.assertAuditor(caller);
    const unredacted = seesUnredacted(caller, this.policy);
    const cache = new Map<string, Promise<ActionSubject | null>>();
    return (actionId) => {
      let hit = cache.get(actionId);
      if (!hit) {
        hit = this.deps.store.findAction(actionId).then((a) => (a ? subjectOf(a, unredacted) : null));
        cache.set(actionId, hit);
      }
      return hit;
    };
  }

  assertAuditor(caller: Caller): void {
    if (!isAuditor(caller, this.policy)) {
      throw new DomainError('forbidden', `Reading the audit history needs one of the roles: ${this.policy.auditRoles.join(', ')}.`);
    }
  }
}

export function subjectOf(action: ActionRecord, unredacted: boolean): ActionSubject {
  const intent = unredacted ? action.intent : redactIntent(action.intent, action.requirement?.redact ?? []);
  return {
    actionType: action.actionType,
    resource: intent.action.resource ?? null,
    summary: intent.action.summary ?? null,
    params: intent.action.params ?? {},
    status: action.status,
    requester: action.actorId,
    onBehalfOf: action.onBehalfOf,
    decidedBy: action.decidedBy,
  };
}
