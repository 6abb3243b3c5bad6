import { createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { ReleaseVerificationError } from './errors.ts';
import { intentHash } from './intent-hash.ts';
import type { IntentInput } from './types.ts';

// Downstream systems verify a release token before acting: the signature (EdDSA, against the
// JWKS countersign serves), the expiry, the audience, and that it releases exactly the intent
// about to be carried out. Approving A must never release B.

/** A verified token's claims. */
export interface ReleaseClaims {
  /** The approved action (`sub`). */
  actionId: string;
  audience: string;
  issuer: string;
  /** Unique token id (`jti`): what redemption records. */
  jti: string;
  intentHash: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Where the public keys come from: countersign's JWKS URL, or a key you pinned. */
export type ReleaseKeySource =
  | { jwksUrl: string | URL; key?: never }
  | { key: KeyObject | JWK | JSONWebKeySet | string; jwksUrl?: never };

export type ReleaseVerifierOptions = ReleaseKeySource & {
  /** The audience your service accepts (the server's COUNTERSIGN_RELEASE_AUDIENCE). */
  audience: string;
  /** When given, the issuer must match (the server's COUNTERSIGN_ISSUER, default "countersign"). */
  issuer?: string;
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number;
};

export interface VerifyReleaseCheck {
  /** The intent you are about to carry out: the token must be bound to exactly this one. */
  intent: IntentInput;
  /** When given, the token must release exactly this action. */
  actionId?: string;
  /** For tests: the time to check expiry against. */
  now?: Date;
}

export interface ReleaseVerifier {
  verify(token: string, check: VerifyReleaseCheck): Promise<ReleaseClaims>;
}

/**
 * A verifier to keep for the life of a service: with `jwksUrl` it fetches the key set once and
 * refreshes it when an unknown key id appears (key rotation), instead of on every request.
 */
export function createReleaseVerifier(opts: ReleaseVerifierOptions): ReleaseVerifier {
  checkOptions(opts);
  const { getKey, keySet } = keyResolver(opts);
  return {
    async verify(token, check) {
      let payload: Record<string, unknown>;
      let kid: string | undefined;
      try {
        ({ payload, protectedHeader: { kid } } = await jwtVerify(token, getKey, {
          algorithms: ['EdDSA'],
          audience: opts.audience,
          ...(opts.issuer !== undefined ? { issuer: opts.issuer } : {}),
          requiredClaims: ['sub', 'aud', 'iss', 'iat', 'exp', 'jti', 'intent_sha256'],
          clockTolerance: opts.clockToleranceSeconds ?? 5,
          ...(check.now ? { currentDate: check.now } : {}),
        }));
      } catch (error) {
        throw toVerificationError(error);
      }
      const { sub, aud, iss, jti, iat, exp, intent_sha256: bound } = payload;
      if (
        typeof sub !== 'string' || typeof aud !== 'string' || typeof iss !== 'string' || typeof jti !== 'string' ||
        typeof iat !== 'number' || typeof exp !== 'number' || typeof bound !== 'string' || !/^[0-9a-f]{64}$/.test(bound)
      ) {
        throw new ReleaseVerificationError('malformed', 'claims have the wrong shape');
      }
      const retiredAt = retirementOf(keySet(), kid);
      if (retiredAt !== undefined && !(exp * 1000 <= retiredAt)) {
        throw new ReleaseVerificationError('retired_key', `token is signed by key ${kid ?? '(no kid)'}, which was retired before the token expires`);
      }
      if (check.actionId !== undefined && sub !== check.actionId) {
        throw new ReleaseVerificationError('wrong_action', `token releases ${sub}, not ${check.actionId}`);
      }
      if (!sameHex(bound, intentHash(check.intent))) {
        throw new ReleaseVerificationError('intent_mismatch', 'token was issued for a different intent');
      }
      return { actionId: sub, audience: aud, issuer: iss, jti, intentHash: bound, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
    },
  };
}

/** One-shot verification. For a long-running service prefer `createReleaseVerifier` (it caches the JWKS). */
export async function verifyRelease(token: string, opts: ReleaseVerifierOptions & VerifyReleaseCheck): Promise<ReleaseClaims> {
  return createReleaseVerifier(opts).verify(token, opts);
}

/**
 * Types cannot stop a plain-JavaScript caller: jose skips the audience check when `audience` is
 * missing (and the issuer check when `issuer` is empty), and a NaN or infinite clock tolerance
 * would never let a token expire. Any of those is a programming error, refused before any token
 * is looked at rather than silently verifying less.
 */
function checkOptions(opts: ReleaseVerifierOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('createReleaseVerifier needs options with jwksUrl or key, and audience');
  if (typeof opts.audience !== 'string' || opts.audience === '') {
    throw new TypeError('release token verification needs `audience`: a non-empty string (the audience your service accepts)');
  }
  if (opts.issuer !== undefined && (typeof opts.issuer !== 'string' || opts.issuer === '')) {
    throw new TypeError('`issuer`, when given, must be a non-empty string');
  }
  const tolerance = opts.clockToleranceSeconds;
  if (tolerance !== undefined && !(typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new TypeError('`clockToleranceSeconds`, when given, must be a finite number of seconds ≥ 0');
  }
}

interface KeyResolver {
  getKey: JWTVerifyGetKey | KeyObject;
  /** The key set the token was checked against, for its retirements; undefined for a pinned PEM or KeyObject. */
  keySet(): JSONWebKeySet | undefined;
}

function keyResolver(opts: ReleaseKeySource): KeyResolver {
  if (opts.jwksUrl !== undefined) {
    const remote = createRemoteJWKSet(new URL(opts.jwksUrl));
    return {
      getKey: remote,
      keySet() {
        // Verified against it just now, so it is cached. Without it, retirements are unknown:
        // no token is accepted rather than one from a retired key.
        const set = typeof remote.jwks === 'function' ? remote.jwks() : undefined;
        if (!set) throw new ReleaseVerificationError('unknown_key', 'the key set could not be read back to check key retirements');
        return set;
      },
    };
  }
  const key = opts.key;
  if (typeof key === 'string') return { getKey: createPublicKey(key), keySet: () => undefined };
  if (isKeyObject(key)) return { getKey: key, keySet: () => undefined };
  if (Array.isArray((key as JSONWebKeySet).keys)) return { getKey: createLocalJWKSet(key as JSONWebKeySet), keySet: () => key as JSONWebKeySet };
  return { getKey: createPublicKey({ key: key as JWK & { kty: string }, format: 'jwk' }), keySet: () => ({ keys: [key as JWK] }) };
}

/**
 * When the signing key is marked retired in the set (`countersign_retired_at`, as countersign's
 * JWKS marks a rotated-out key), the instant in ms; a mark that cannot be read counts as retired
 * since ever (fail closed). Without a kid every key in the set could have signed: the earliest.
 */
function retirementOf(set: JSONWebKeySet | undefined, kid: string | undefined): number | undefined {
  if (!set) return undefined;
  let earliest: number | undefined;
  for (const jwk of set.keys) {
    if (kid !== undefined && jwk.kid !== kid) continue;
    const mark = (jwk as { countersign_retired_at?: unknown }).countersign_retired_at;
    if (mark === undefined) continue;
    const at = typeof mark === 'string' ? Date.parse(mark) : Number.NaN;
    const instant = Number.isNaN(at) ? 0 : at;
    earliest = earliest === undefined ? instant : Math.min(earliest, instant);
  }
  return earliest;
}

function isKeyObject(key: unknown): key is KeyObject {
  return typeof key === 'object' && key !== null && typeof (key as KeyObject).export === 'function' && 'asymmetricKeyType' in key;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function toVerificationError(error: unknown): ReleaseVerificationError {
  if (error instanceof errors.JWTExpired) return new ReleaseVerificationError('expired', 'token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new ReleaseVerificationError('wrong_audience', 'token is for a different audience');
    if (error.claim === 'iss') return new ReleaseVerificationError('wrong_issuer', 'token is from a different issuer');
    if (error.claim === 'nbf' || error.claim === 'iat') return new ReleaseVerificationError('not_yet_valid', 'token is not valid yet');
    return new ReleaseVerificationError('malformed', `claim ${error.claim}: ${error.message}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new ReleaseVerificationError('bad_signature', 'signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey) return new ReleaseVerificationError('unknown_key', 'no matching key in the key set');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new ReleaseVerificationError('malformed', error.message, { cause: error });
  }
  // Not a verdict about the token (the JWKS could not be fetched or is broken, a bug): let it
  // surface as is, so an outage is not mistaken for a forged token (and nothing is acted on).
  throw error;
}
