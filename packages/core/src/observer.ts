import { DomainError, type Outcome, type SealedArtifact, type VoteChannel, type VoteDecision } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from './action.ts';
import type { ApiKeyRecord } from './keys/api-key.ts';
import { UniqueViolation, type FinalizePatch, type GateStore, type GateTx, type NewActionWrite } from './ports.ts';

// What the engine tells an observer (the server's Prometheus metrics) as decisions happen. A
// port, so the engine stays free of I/O and of any metrics library. Events are reported only
// once they are true: after the transaction that made them commits, never for a rollback.
// Implementations must not throw: the change they hear of has already happened.

export type FinalStatus = FinalizePatch['status'];
export type VoteResultLabel = VoteDecision | 'refused';
export type RedemptionResult = 'redeemed' | 'already_redeemed' | 'invalid';

export interface GateObserver {
  /** A new submission got its verdict (idempotent replays are not new decisions). */
  decided(event: { outcome: Outcome; ruleIds: readonly string[] }): void;
  /** A vote was recorded, or the engine turned it down (`refused`: not eligible, too late, …). */
  voted(event: { channel: VoteChannel; result: VoteResultLabel }): void;
  /** A pending (escalated) action reached its final state, `pendingSeconds` after it was submitted. */
  finalized(event: { status: FinalStatus; pendingSeconds: number }): void;
  /** A release token was presented for redemption. */
  redeemed(event: { result: RedemptionResult }): void;
  /**
   * A change that had started sealing its artifact failed to commit: the change did not happen
   * (no decision without its artifact), and someone should look at Postgres.
   */
  artifactWriteFailed(): void;
}

export const noopObserver: GateObserver = {
  decided: () => undefined,
  voted: () => undefined,
  finalized: () => undefined,
  redeemed: () => undefined,
  artifactWriteFailed: () => undefined,
};

/** Refusals and idempotency races are answers, not failures to write. */
function isWriteFailure(err: unknown): boolean {
  return !(err instanceof DomainError) && !(err instanceof UniqueViolation);
}

/**
 * The store, reporting what its transactions commit: every final state (whatever path reached
 * it: a vote, expiry, cancel, the sweeper) and every artifact that could not be sealed. It
 * watches the store rather than each use case so that no path to a final state can be missed.
 */
export function observeStore(store: GateStore, observer: GateObserver): GateStore {
  return new ObservedStore(store, observer);
}

class ObservedStore implements GateStore {
  constructor(
    private readonly inner: GateStore,
    private readonly observer: GateObserver,
  ) {}

  async transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T> {
    // One watch per attempt: the store may run `fn` again (GateStore.transaction), and only
    // the attempt that committed counts.
    let watch = new TxWatch();
    let result: T;
    try {
      result = await this.inner.transaction((tx) => {
        watch = new TxWatch();
        return fn(watch.wrap(tx));
      });
    } catch (err) {
      if (watch.sealing && isWriteFailure(err)) this.observer.artifactWriteFailed();
      throw err;
    }
    for (const f of watch.finalized) this.observer.finalized(f);
    return result;
  }

  async insertNewAction(write: NewActionWrite): Promise<SealedArtifact> {
    try {
      return await this.inner.insertNewAction(write);
    } catch (err) {
      if (isWriteFailure(err)) this.observer.artifactWriteFailed();
      throw err;
    }
  }

  findAction(id: string): Promise<ActionRecord | null> {
    return this.inner.findAction(id);
  }
  findByIdempotencyKey(apiKeyId: string, key: string): Promise<ActionRecord | null> {
    return this.inner.findByIdempotencyKey(apiKeyId, key);
  }
  votesFor(actionId: string): Promise<VoteRecord[]> {
    return this.inner.votesFor(actionId);
  }
  findActionWithVotes(id: string): Promise<{ action: ActionRecord; votes: VoteRecord[] } | null> {
    return this.inner.findActionWithVotes(id);
  }
  addPartyBindings(actionId: string, entries: readonly string[], approversAtMark?: readonly string[]): Promise<void> {
    return this.inner.addPartyBindings(actionId, entries, approversAtMark);
  }
  latestArtifactFor(actionId: string): Promise<SealedArtifact | null> {
    return this.inner.latestArtifactFor(actionId);
  }
  findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    return this.inner.findApiKeyByPrefix(prefix);
  }
  findApiKeyById(id: string): Promise<ApiKeyRecord | null> {
    return this.inner.findApiKeyById(id);
  }
  touchApiKey(id: string, at: Date): Promise<void> {
    return this.inner.touchApiKey(id, at);
  }
  bindApiKey(id: string, binding: string): Promise<string> {
    return this.inner.bindApiKey(id, binding);
  }
  bindDelegateScope(id: string, bindings: readonly string[]): Promise<string[]> {
    return this.inner.bindDelegateScope(id, bindings);
  }
  dueForExpiry(now: Date, limit: number): Promise<string[]> {
    return this.inner.dueForExpiry(now, limit);
  }
  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.inner.listApiKeys();
  }
}

/** What one transaction did that an observer cares about, reported only if it commits. */
class TxWatch {
  sealing = false;
  readonly finalized: { status: FinalStatus; pendingSeconds: number }[] = [];
  private readonly submittedAt = new Map<string, Date>();

  /** Every call goes to `tx` itself (bound), so the store's own bookkeeping on it is kept. */
  wrap(tx: GateTx): GateTx {
    return {
      insertAction: (action) => tx.insertAction(action),
      lockAction: async (id) => {
        const action = await tx.lockAction(id);
        if (action) this.submittedAt.set(action.id, action.createdAt);
        return action;
      },
      votesFor: (actionId) => tx.votesFor(actionId),
      insertVote: (vote) => tx.insertVote(vote),
      finalize: async (id, patch) => {
        await tx.finalize(id, patch);
        // Every final state is written under the action's row lock, so its submission time is known.
        const since = this.submittedAt.get(id);
        if (since) this.finalized.push({ status: patch.status, pendingSeconds: Math.max(0, (patch.at.getTime() - since.getTime()) / 1000) });
      },
      recordOverride: (id, patch) => tx.recordOverride(id, patch),
      insertApiKey: (key) => tx.insertApiKey(key),
      revokeApiKey: (id, at) => tx.revokeApiKey(id, at),
      appendArtifact: (event) => {
        this.sealing = true;
        return tx.appendArtifact(event);
      },
      recordConfigVersion: (file, digest) => tx.recordConfigVersion(file, digest),
      publishDecision: (actionId) => tx.publishDecision(actionId),
      isKeyActive: (keyId) => tx.isKeyActive(keyId),
      emit: (event) => tx.emit(event),
      hasArtifact: (actionId, kind) => tx.hasArtifact(actionId, kind),
      findRedemption: (query) => tx.findRedemption(query),
      insertRedemption: (redemption) => tx.insertRedemption(redemption),
    };
  }
}
