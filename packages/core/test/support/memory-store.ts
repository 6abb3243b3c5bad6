import { DomainError, GENESIS_HASH, type ArtifactEvent, type ArtifactKind, type GateEvent, type SealedArtifact } from '@countersign/contracts';
import { generateSigningKey, sealArtifact, type SigningKey } from '@countersign/evidence';
import {
  UniqueViolation,
  type ActionRecord,
  type ApiKeyRecord,
  type FinalizePatch,
  type OverridePatch,
  type GateStore,
  type GateTx,
  type RedemptionRecord,
  type VoteRecord,
} from '../../src/index.ts';

// A port fake for unit tests of the engine's decisions: the GateStore/GateTx contract in
// memory, with the guards the SQL store enforces (status = 'pending' on finalize, one vote per
// person and action, one override, unique idempotency key, one redemption per approval and
// audience and per token, rollback when the work throws).
// Transactions run one at a time, which is what the row lock gives the real store.

interface State {
  actions: Map<string, ActionRecord>;
  votes: VoteRecord[];
  keys: Map<string, ApiKeyRecord>;
  artifacts: SealedArtifact[];
  outbox: GateEvent[];
  configVersions: { file: string; digest: string }[];
  redemptions: RedemptionRecord[];
}

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryGateStore implements GateStore {
  private state: State = { actions: new Map(), votes: [], keys: new Map(), artifacts: [], outbox: [], configVersions: [], redemptions: [] };
  private queue: Promise<unknown> = Promise.resolve();
  /** Action ids whose decision committed, in order: what the decision bus would carry. */
  readonly published: string[] = [];
  private readonly listeners = new Set<(actionId: string) => void>();

  constructor(
    readonly signingKey: SigningKey = generateSigningKey(),
    private readonly now: () => Date = () => new Date(),
  ) {}

  get artifacts(): readonly SealedArtifact[] {
    return this.state.artifacts;
  }
  get outbox(): readonly GateEvent[] {
    return this.state.outbox;
  }
  get redemptions(): readonly RedemptionRecord[] {
    return this.state.redemptions;
  }
  onPublished(listener: (actionId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T> {
    const run = async () => {
      const before = copy(this.state);
      const tx = new MemoryGateTx(this.state, this.signingKey, this.now);
      try {
        const result = await fn(tx);
        for (const id of tx.published) {
          this.published.push(id);
          this.listeners.forEach((l) => l(id));
        }
        return result;
      } catch (err) {
        this.state = before; // rollback: nothing the failed work wrote survives
        throw err;
      }
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  insertNewAction({ action, events, artifact }: Parameters<GateStore['insertNewAction']>[0]): Promise<SealedArtifact> {
    return this.transaction(async (tx) => {
      if (action.idempotencyKey && (await this.findByIdempotencyKey(action.apiKeyId, action.idempotencyKey))) {
        throw new UniqueViolation('Action_apiKeyId_idempotencyKey_key');
      }
      if (!(await tx.isKeyActive(action.apiKeyId))) throw new DomainError('unauthenticated', 'This API key has been revoked.');
      await tx.insertAction(action);
      for (const e of events) await tx.emit(e);
      return tx.appendArtifact(artifact);
    });
  }

  async findAction(id: string) {
    const a = this.state.actions.get(id);
    return a ? copy(a) : null;
  }
  async findByIdempotencyKey(apiKeyId: string, key: string) {
    const a = [...this.state.actions.values()].find((x) => x.apiKeyId === apiKeyId && x.idempotencyKey === key);
    return a ? copy(a) : null;
  }
  async votesFor(actionId: string) {
    return copy(this.state.votes.filter((v) => v.actionId === actionId));
  }
  async findActionWithVotes(id: string) {
    const action = await this.findAction(id);
    return action ? { action, votes: await this.votesFor(id) } : null;
  }
  async addPartyBindings(actionId: string, entries: readonly string[], approversAtMark?: readonly string[]) {
    const a = this.state.actions.get(actionId);
    if (a) a.partyBindings = [...new Set([...(a.partyBindings ?? []), ...entries])];
    if (a && approversAtMark && !a.approversAtMark?.length) a.approversAtMark = [...approversAtMark];
  }
  async latestArtifactFor(actionId: string) {
    return this.state.artifacts.filter((a) => a.actionId === actionId).at(-1) ?? null;
  }
  async findApiKeyByPrefix(prefix: string) {
    const k = [...this.state.keys.values()].find((x) => x.prefix === prefix);
    return k ? copy(k) : null;
  }
  async findApiKeyById(id: string) {
    const k = this.state.keys.get(id);
    return k ? copy(k) : null;
  }
  async bindApiKey(id: string, binding: string) {
    const k = this.state.keys.get(id);
    if (!k) throw new Error(`no API key ${id} to bind`);
    k.principalBinding ??= binding;
    return k.principalBinding;
  }
  async bindDelegateScope(id: string, bindings: readonly string[]) {
    const k = this.state.keys.get(id);
    if (!k) throw new Error(`no API key ${id} to bind`);
    if (k.delegateBindings.length === 0) k.delegateBindings = [...bindings];
    return k.delegateBindings;
  }
  async touchApiKey(id: string, at: Date) {
    const k = this.state.keys.get(id);
    if (k) k.lastUsedAt = at;
  }
  async dueForExpiry(now: Date, limit: number) {
    return [...this.state.actions.values()]
      .filter((a) => a.status === 'pending' && a.expiresAt && a.expiresAt.getTime() <= now.getTime())
      .slice(0, limit)
      .map((a) => a.id);
  }
  async listApiKeys() {
    return copy([...this.state.keys.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()));
  }
}

class MemoryGateTx implements GateTx {
  readonly published: string[] = [];

  constructor(
    private readonly state: State,
    private readonly key: SigningKey,
    private readonly now: () => Date,
  ) {}

  async insertAction(action: ActionRecord) {
    if (this.state.actions.has(action.id)) throw new UniqueViolation('Action_pkey');
    this.state.actions.set(action.id, copy(action));
  }
  async lockAction(id: string) {
    const a = this.state.actions.get(id);
    return a ? copy(a) : null;
  }
  async votesFor(actionId: string) {
    return copy(this.state.votes.filter((v) => v.actionId === actionId));
  }
  async insertVote(vote: VoteRecord) {
    if (this.state.votes.some((v) => v.actionId === vote.actionId && v.personId === vote.personId)) {
      throw new UniqueViolation('Vote_actionId_personId_key');
    }
    this.state.votes.push(copy(vote));
  }
  async finalize(id: string, patch: FinalizePatch) {
    const a = this.state.actions.get(id);
    if (!a || a.status !== 'pending') throw new Error(`action ${id} was not pending when finalizing`);
    Object.assign(a, { status: patch.status, decidedAt: patch.at, decidedBy: patch.decidedBy, decisionReason: patch.reason });
  }
  async recordOverride(id: string, patch: OverridePatch) {
    const a = this.state.actions.get(id);
    if (!a || a.status !== 'refused' || a.outcome !== 'refuse' || a.overriddenBy) throw new Error(`action ${id} was not an un-overridden refusal`);
    Object.assign(a, { overriddenBy: patch.personId, overrideReason: patch.reason });
    if (patch.escalateUntil) Object.assign(a, { status: 'pending', expiresAt: patch.escalateUntil, decidedAt: null, decidedBy: null, decisionReason: null, partyBindings: [...(a.partyBindings ?? []), ...patch.partyEntries] });
    else Object.assign(a, { status: 'approved', decidedAt: patch.at });
  }
  async insertApiKey(key: ApiKeyRecord) {
    this.state.keys.set(key.id, copy(key));
  }
  async revokeApiKey(id: string, at: Date) {
    const k = this.state.keys.get(id);
    if (!k || k.revokedAt) return false;
    k.revokedAt = at;
    return true;
  }
  async appendArtifact(event: ArtifactEvent) {
    const head = this.state.artifacts.at(-1);
    const sealed = sealArtifact({ seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? GENESIS_HASH, at: this.now(), event, key: this.key });
    this.state.artifacts.push(sealed);
    return sealed;
  }
  async recordConfigVersion(file: 'policy' | 'directory', digest: string) {
    const previous = this.state.configVersions.filter((v) => v.file === file).at(-1);
    if (previous?.digest === digest) return { isNew: false, previousDigest: digest };
    this.state.configVersions.push({ file, digest });
    return { isNew: true, previousDigest: previous?.digest ?? null };
  }
  async publishDecision(actionId: string) {
    this.published.push(actionId);
  }
  async isKeyActive(keyId: string) {
    const k = this.state.keys.get(keyId);
    return k !== undefined && k.revokedAt === null;
  }
  async emit(event: GateEvent) {
    this.state.outbox.push(copy(event));
  }
  async hasArtifact(actionId: string, kind: ArtifactKind) {
    return this.state.artifacts.some((a) => a.actionId === actionId && a.kind === kind);
  }
  async findRedemption({ actionId, audience, tokenId }: { actionId: string; audience: string; tokenId: string }) {
    const r = this.state.redemptions.find((x) => (x.actionId === actionId && x.audience === audience) || x.tokenId === tokenId);
    return r ? copy(r) : null;
  }
  async insertRedemption(redemption: RedemptionRecord) {
    if (this.state.redemptions.some((x) => x.tokenId === redemption.tokenId)) throw new UniqueViolation('Redemption_pkey');
    if (this.state.redemptions.some((x) => x.actionId === redemption.actionId && x.audience === redemption.audience)) {
      throw new UniqueViolation('Redemption_actionId_audience_key');
    }
    this.state.redemptions.push(copy(redemption));
  }
}
