import type { ActionRecord, ReleaseIssuer } from '@countersign/core';
import { signReleaseToken, type Keyring } from '@countersign/evidence';

/** Release tokens: JWS (EdDSA) bound to the action id, the exact intent's hash and the audience. */
export function releaseIssuer(keyring: Keyring, opts: { issuer: string; audience: string; ttlSeconds: number; now?: () => Date }): ReleaseIssuer {
  return {
    async issue(action: ActionRecord) {
      const now = opts.now?.() ?? new Date();
      const token = await signReleaseToken({
        key: keyring.active,
        actionId: action.id,
        intentHash: action.intentHash,
        audience: opts.audience,
        issuer: opts.issuer,
        ttlSeconds: opts.ttlSeconds,
        now,
      });
      return { token, expiresAt: new Date(now.getTime() + opts.ttlSeconds * 1000) };
    },
  };
}
