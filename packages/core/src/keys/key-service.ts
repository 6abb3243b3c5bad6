import { DomainError, randomId, type Principal } from '@countersign/contracts';
import type { DirectoryView } from '../config-view.ts';
import type { Clock, GateStore } from '../ports.ts';
import { newKeyMaterial, parseToken, secretMatches, type ApiKeyRecord } from './api-key.ts';
import { scopeBindings, scopeRole } from './delegation-scope.ts';
import { principalBinding } from './principal-binding.ts';

/** Who is calling: the principal an API key belongs to, re-read from the directory each time. */
export interface Caller {
  keyId: string;
  principal: Principal;
  canDelegate: boolean;
  /** The key's delegation scope (ApiKeyRecord.delegateFor). */
  delegateFor: readonly string[];
  /** Who each person of the scope was when the key was made (ApiKeyRecord.delegateBindings). */
  delegateBindings?: readonly string[];
}

// lastUsedAt is recorded at most once a minute per key so the hot path does not pay a write
// per request for a value nobody needs to the millisecond.
const TOUCH_EVERY_MS = 60_000;

/** Keys need only the directory (who a key's principal is now), never the policy. */
export interface DirectorySource {
  current(): { directory: DirectoryView };
}

export class KeyService {
  constructor(
    private readonly store: GateStore,
    private readonly config: DirectorySource,
    private readonly clock: Clock,
  ) {}

  /** Creates a key for a directory principal. The token is returned once and never stored. */
  async create(
    principalId: string,
    opts: { canDelegate?: boolean; delegateFor?: readonly string[]; label?: string } = {},
  ): Promise<{ token: string; key: ApiKeyRecord }> {
    const { directory } = this.config.current();
    const principal = directory.principal(principalId);
    if (!principal) throw new DomainError('unknown_principal', `No person or agent "${principalId}" in the directory.`);
    const delegateFor = checkedScope(opts.canDelegate ?? false, opts.delegateFor ?? [], directory);
    const material = newKeyMaterial();
    const key: ApiKeyRecord = {
      id: randomId('key'),
      prefix: material.prefix,
      secretHash: material.secretHash,
      principalId,
      principalKind: principal.kind,
      principalBinding: principalBinding(principal),
      canDelegate: opts.canDelegate ?? false,
      delegateFor,
      delegateBindings: scopeBindings(delegateFor, directory),
      label: opts.label ?? null,
      createdAt: this.clock.now(),
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.transaction(async (tx) => {
      await tx.insertApiKey(key);
      await tx.appendArtifact({
        kind: 'key.created',
        keyId: key.id,
        principalId,
        principalKind: principal.kind,
        canDelegate: key.canDelegate,
        ...(key.canDelegate ? { delegateFor: key.delegateFor } : {}),
        label: key.label,
      });
    });
    return { token: material.token, key };
  }

  /** Every key, revoked ones included, oldest first: hashes and metadata, never a secret. */
  list(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }

  /** A key by its id (`key_…`) or its token prefix (`cs_…`). */
  async find(keyIdOrPrefix: string): Promise<ApiKeyRecord | null> {
    return keyIdOrPrefix.startsWith('cs_') ? this.store.findApiKeyByPrefix(keyIdOrPrefix) : this.store.findApiKeyById(keyIdOrPrefix);
  }

  async revoke(keyIdOrPrefix: string): Promise<boolean> {
    const key = await this.find(keyIdOrPrefix);
    if (!key) throw new DomainError('not_found', `No API key "${keyIdOrPrefix}".`);
    return this.store.transaction(async (tx) => {
      const revoked = await tx.revokeApiKey(key.id, this.clock.now());
      if (revoked) await tx.appendArtifact({ kind: 'key.revoked', keyId: key.id, principalId: key.principalId });
      return revoked;
    });
  }

  /**
   * Returns the caller for a bearer token, or undefined for anything doubtful: malformed,
   * unknown, revoked, a principal no longer in the directory, or another principal under the
   * same id (the key is bound to whom it was made for, principal-binding.ts). The directory is
   * read on every call, so a principal removed from it stops authenticating at once.
   */
  async authenticate(token: string): Promise<Caller | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const key = await this.store.findApiKeyByPrefix(parsed.prefix);
    if (!key || key.revokedAt || !secretMatches(parsed.secret, key.secretHash)) return undefined;
    const principal = this.config.current().directory.principal(key.principalId);
    if (!principal || principal.kind !== key.principalKind) return undefined;
    const binding = principalBinding(principal);
    if (key.principalBinding === null) {
      // A key from before keys were bound: bound now, to the principal it serves today; the
      // store keeps the first binding written, whichever process wrote it.
      key.principalBinding = await this.store.bindApiKey(key.id, binding);
    }
    if (key.principalBinding !== binding) return undefined;
    if (key.canDelegate && key.delegateBindings.length === 0) {
      // A delegate key from before scopes were bound: bound now, to the people its scope names
      // today, so from here on it acts for them and not for whoever gets their id later.
      const bindings = scopeBindings(key.delegateFor, this.config.current().directory);
      if (bindings.length > 0) key.delegateBindings = await this.store.bindDelegateScope(key.id, bindings);
    }
    const now = this.clock.now();
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      key.lastUsedAt = now;
      await this.store.touchApiKey(key.id, now);
    }
    return { keyId: key.id, principal, canDelegate: key.canDelegate, delegateFor: key.delegateFor, delegateBindings: key.delegateBindings };
  }
}

/**
 * A delegate key must name whom it acts for (fail closed: no scope is not "anyone"), and a
 * non-delegate key names nobody. Person ids must exist now so a typo is caught at creation;
 * roles are not checked against today's holders, since a role may be granted later.
 */
function checkedScope(canDelegate: boolean, scope: readonly string[], directory: DirectoryView): string[] {
  if (!canDelegate) {
    if (scope.length > 0) throw new DomainError('invalid_request', 'A delegation scope needs a delegate key (--delegate).');
    return [];
  }
  if (scope.length === 0) throw new DomainError('invalid_request', 'A delegate key must name whom it may act for (--for person,role:name).');
  for (const entry of scope) {
    const role = scopeRole(entry);
    if (role !== undefined ? role === '' : !directory.person(entry)) {
      throw new DomainError('invalid_request', `Delegation scope entry "${entry}" is not a person in the directory or role:<role>.`);
    }
  }
  return [...new Set(scope)];
}
