import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// API keys: `cs_<prefix>_<secret>`. The prefix is public (it identifies the key in logs and the
// store); only a SHA-256 of the high-entropy secret is stored, compared in constant time.

export interface ApiKeyRecord {
  id: string;
  prefix: string;
  secretHash: string;
  principalId: string;
  principalKind: 'person' | 'agent';
  /**
   * principalBinding() of the principal when the key was made: the key authenticates only while
   * the directory entry under `principalId` still matches it. Null for keys made before keys
   * were bound: such a key is bound at its first use (principal-binding.ts).
   */
  principalBinding: string | null;
  canDelegate: boolean;
  /**
   * Whom a delegate key may act for: person ids and `role:<role>` entries (delegation-scope.ts).
   * Empty for keys that may not delegate, and for delegate keys made before scopes existed,
   * which may act for nobody until re-issued (see submit.ts).
   */
  delegateFor: string[];
  /**
   * For each person id in delegateFor, `<id>=<personBinding>` of that person when the key was
   * made: the key acts for them, not for whoever holds the id later (delegation-scope.ts).
   * Empty for keys made before; their person entries count by id.
   */
  delegateBindings: string[];
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const PREFIX_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function newKeyMaterial(): { prefix: string; secret: string; token: string; secretHash: string } {
  let id = '';
  for (const b of randomBytes(10)) id += PREFIX_ALPHABET[b % PREFIX_ALPHABET.length];
  const prefix = `cs_${id}`;
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, token: `${prefix}_${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Splits a presented token; undefined when it is not shaped like one of ours. */
export function parseToken(token: string): { prefix: string; secret: string } | undefined {
  const m = /^(cs_[a-z2-9]{10})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return undefined;
  return { prefix: m[1]!, secret: m[2]! };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
