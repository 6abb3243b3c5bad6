import { DomainError } from '@countersign/contracts';
import type { ActionRecord, ReleaseIssuer } from '@countersign/core';
import { ReleaseTokenError, signReleaseToken, verifyReleaseToken, type Keyring } from '@countersign/evidence';

/** Release tokens: JWS (EdDSA) bound to the action id, the exact intent's hash and the audience. */
export function releaseIssuer(keyring: Keyring, opts: { issuer: string; audience: string; ttlSeconds: number; now?: () => Date }): ReleaseIssuer {
  const now = () => opts.now?.() ?? new Date();
  return {
    async issue(action: ActionRecord) {
      const at = now();
      const token = await signReleaseToken({
        key: keyring.active,
        actionId: action.id,
        intentHash: action.intentHash,
        audience: opts.audience,
        issuer: opts.issuer,
        ttlSeconds: opts.ttlSeconds,
        now: at,
      });
      return { token, expiresAt: new Date(at.getTime() + opts.ttlSeconds * 1000) };
    },

    async verify(token, expect) {
      try {
        // Retired keys verify only tokens that expired by their retirement.
        const claims = await verifyReleaseToken(token, { ...expect, keys: keyring.publicKeys(), retired: keyring.retirements(), issuer: opts.issuer, now: now() });
        return { actionId: claims.sub, audience: claims.aud, tokenId: claims.jti, intentHash: claims.intent_sha256 };
      } catch (err) {
        // A token that does not verify is not a credential problem of the caller's API key: 403,
        // with the reason (expired, wrong_audience, intent_mismatch, …) for the downstream's logs.
        if (err instanceof ReleaseTokenError) throw new DomainError('invalid_release_token', err.message, { extra: { reason: err.reason } });
        throw err;
      }
    },
  };
}
