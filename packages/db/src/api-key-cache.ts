import type { ApiKeyRecord } from '@countersign/core';
import type { BusChannelListener } from './decision-bus.ts';
import { KEYS_CHANNEL } from './gate-tx.ts';

export interface ApiKeyCacheOptions {
  /** How long an entry is trusted at most, even if no revocation is heard (ms). */
  ttlMs?: number;
  maxEntries?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * API keys by prefix, cached per process so that authenticating a request costs no query.
 *
 * Trusting a cached key is only safe while this process would hear of its revocation: every
 * revocation NOTIFYs `countersign_keys` in its transaction, heard on the decision bus's LISTEN
 * connection. So the cache answers only while that connection is up; losing it, regaining it
 * (notifications may have been missed in between) or hearing any revocation empties it. A read
 * from the store that overlapped any of these is not kept (generation check), so a revocation
 * that commits while a lookup is in flight can never be overwritten by the stale row.
 * Fails closed: when in doubt the lookup goes to Postgres.
 */
export class ApiKeyCache implements BusChannelListener {
  readonly channel = KEYS_CHANNEL;
  private readonly entries = new Map<string, { key: ApiKeyRecord; until: number }>();
  private generation = 0;
  private listening = false;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: ApiKeyCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The cached key, or undefined: not cached, expired, or revocations cannot be heard now. */
  get(prefix: string): ApiKeyRecord | undefined {
    if (!this.listening) return undefined;
    const entry = this.entries.get(prefix);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(prefix);
      return undefined;
    }
    return entry.key;
  }

  /** Take before reading the store; hand back to `remember` with what was read. */
  ticket(): number {
    return this.generation;
  }

  /** Keeps a key read from the store, unless anything invalidated the cache since `ticket`. */
  remember(ticket: number, key: ApiKeyRecord): void {
    if (!this.listening || ticket !== this.generation || key.revokedAt) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key.prefix, { key, until: this.now() + this.ttlMs });
  }

  /** Forgets every key (a key was revoked here or elsewhere). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether cached keys may be used (the revocation channel is being listened to). */
  get live(): boolean {
    return this.listening;
  }

  notified(): void {
    // Any revocation empties the whole cache: revocations are rare, and it needs no lookup.
    this.invalidate();
  }

  connected(): void {
    this.invalidate();
    this.listening = true;
  }

  disconnected(): void {
    this.listening = false;
    this.invalidate();
  }
}
