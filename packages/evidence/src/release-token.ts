import type { ReleaseFailure } from '@countersign/contracts';
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { DomainError, pooledRandomBytes } from '@countersign/contracts';
import { HASH_HEX } from './body.ts';
import { signEd25519 } from './ed25519.ts';
import { retirementsFromJwks, type KeyRetirement } from './key-retirement.ts';
import type { SigningKey } from './keys.ts';

/**
 * Release tokens: a short-lived JWS (EdDSA) handed back with an approval. Downstream systems
 * verify it against the JWKS before acting. It binds the action id (sub), the audience and the
 * hash of the exact intent, so approving A can never release B.
 */
export interface ReleaseTokenClaims {
  sub: string;
  aud: string;
  iss: string;
  iat: number;
  exp: number;
  jti: string;
  intent_sha256: string;
}

/** Why a release token releases nothing: one list, the SDK's (verifiers there and here agree). */
export type ReleaseTokenFailure = ReleaseFailure;

export class ReleaseTokenError extends DomainError {
  readonly reason: ReleaseTokenFailure;
  constructor(reason: ReleaseTokenFailure, message: string) {
    super('unauthenticated', `release token rejected: ${message}`, { extra: { reason } });
    this.name = 'ReleaseTokenError';
    this.reason = reason;
  }
}

export interface SignReleaseTokenInput {
  key: SigningKey;
  actionId: string;
  intentHash: string;
  audience: string;
  issuer: string;
  ttlSeconds: number;
  now?: Date;
}

export async function signReleaseToken(input: SignReleaseTokenInput): Promise<string> {
  if (!HASH_HEX.test(input.intentHash)) throw new DomainError('internal', 'intentHash must be 64 lowercase hex');
  if (!Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds <= 0) throw new DomainError('internal', 'ttlSeconds must be a positive integer');
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  // A compact JWS made here with one synchronous Ed25519 signature: jose's SignJWT signs through
  // WebCrypto (a thread-pool job and a promise per token), a tenth of a gate request's CPU.
  // Verification stays jose's (verifyReleaseToken, the SDK); a test checks both agree.
  const header = b64url({ alg: 'EdDSA', typ: 'JWT', kid: input.key.keyId });
  const claims: ReleaseTokenClaims & Record<string, unknown> = {
    intent_sha256: input.intentHash,
    sub: input.actionId,
    aud: input.audience,
    iss: input.issuer,
    iat,
    exp: iat + input.ttlSeconds,
    jti: pooledRandomBytes(16).toString('base64url'),
  };
  const signingInput = `${header}.${b64url(claims)}`;
  return `${signingInput}.${signEd25519(Buffer.from(signingInput, 'ascii'), input.key.privateKey).toString('base64url')}`;
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export interface VerifyReleaseTokenOptions {
  /**
   * Public keys by key id, or a JWKS as served at /.well-known/jwks.json (whose retired keys
   * carry their retirement, used unless `retired` is given).
   */
  keys: Map<string, KeyObject> | JSONWebKeySet;
  /** Retired keys: a token they signed that is still valid after their retirement is refused. */
  retired?: ReadonlyMap<string, KeyRetirement>;
  audience: string;
  issuer: string;
  /** When given, the token must be bound to exactly this intent hash. */
  intentHash?: string;
  /** When given, the token must release exactly this action. */
  actionId?: string;
  now?: Date;
  /** Allowed clock skew in seconds (default 0). */
  clockToleranceSeconds?: number;
}

export async function verifyReleaseToken(token: string, opts: VerifyReleaseTokenOptions): Promise<ReleaseTokenClaims> {
  const getKey = opts.keys instanceof Map ? keyFromMap(opts.keys) : createLocalJWKSet(opts.keys);
  const retired = opts.retired ?? (opts.keys instanceof Map ? new Map<string, KeyRetirement>() : retirementsFromJwks(opts.keys));
  let payload: Record<string, unknown>;
  let kid: string | undefined;
  try {
    ({ payload, protectedHeader: { kid } } = await jwtVerify(token, getKey, {
      algorithms: ['EdDSA'],
      audience: opts.audience,
      issuer: opts.issuer,
      requiredClaims: ['sub', 'aud', 'iss', 'iat', 'exp', 'jti', 'intent_sha256'],
      clockTolerance: opts.clockToleranceSeconds ?? 0,
      ...(opts.now ? { currentDate: opts.now } : {}),
    }));
  } catch (err) {
    throw toReleaseTokenError(err);
  }

  const claims = payload;
  if (
    typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || typeof claims.jti !== 'string' ||
    typeof claims.intent_sha256 !== 'string' || !HASH_HEX.test(claims.intent_sha256)
  ) {
    throw new ReleaseTokenError('malformed', 'claims have the wrong shape');
  }
  // A retired key signs nothing after its retirement. Its holder can backdate `iat`, but a
  // token must expire by the retirement to count: every token it could still mint is refused,
  // and so are its genuine tokens still outstanding at rotation (reading the action mints new ones).
  const retirement = kid === undefined ? undefined : retired.get(kid);
  if (retirement && typeof claims.exp === 'number' && claims.exp * 1000 > Date.parse(retirement.retiredAt)) {
    throw new ReleaseTokenError('retired_key', `token is signed by key ${kid}, retired at ${retirement.retiredAt}`);
  }
  if (opts.actionId !== undefined && claims.sub !== opts.actionId) {
    throw new ReleaseTokenError('wrong_action', `token releases ${claims.sub}, not ${opts.actionId}`);
  }
  if (opts.intentHash !== undefined && !sameHex(claims.intent_sha256, opts.intentHash)) {
    throw new ReleaseTokenError('intent_mismatch', 'token was issued for a different intent');
  }
  return claims as unknown as ReleaseTokenClaims;
}

function keyFromMap(keys: Map<string, KeyObject>): JWTVerifyGetKey {
  return (header) => {
    const key = header.kid === undefined ? undefined : keys.get(header.kid);
    if (!key) throw new ReleaseTokenError('unknown_key', `no public key for kid ${header.kid ?? '(none)'}`);
    return key;
  };
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function toReleaseTokenError(err: unknown): ReleaseTokenError {
  if (err instanceof ReleaseTokenError) return err;
  if (err instanceof errors.JWTExpired) return new ReleaseTokenError('expired', 'token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new ReleaseTokenError('wrong_audience', 'token is for a different audience');
    if (err.claim === 'iss') return new ReleaseTokenError('wrong_issuer', 'token is from a different issuer');
    if (err.claim === 'nbf' || (err.claim === 'iat' && err.reason === 'check_failed')) {
      return new ReleaseTokenError('not_yet_valid', 'token is not valid yet');
    }
    return new ReleaseTokenError('malformed', `claim ${err.claim}: ${err.message}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new ReleaseTokenError('bad_signature', 'signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return new ReleaseTokenError('unknown_key', 'no matching key in the JWKS');
  if (err instanceof errors.JOSEError) return new ReleaseTokenError('malformed', err.message);
  // Anything else is not a verdict about the token (a bug or a broken key set): surface it.
  throw err;
}
