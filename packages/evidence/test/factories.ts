import { GENESIS_HASH, type ArtifactEvent, type SealedArtifact } from '@countersign/contracts';
import { sealArtifact, sealTrailer, sha256Hex, type ExportTrailer, type SigningKey } from '../src/index.ts';

// Factories shared by the tests and the benchmark. Overrides keep each test's intent visible.

export function voteEvent(i: number, overrides: Partial<ArtifactEvent> = {}): ArtifactEvent {
  return {
    kind: 'vote.recorded',
    actionId: `act_${String(Math.floor(i / 3)).padStart(20, '0')}`,
    intentHash: sha256Hex(`intent-${Math.floor(i / 3)}`),
    actionType: 'environment.delete',
    personId: `per_${i % 7}`,
    decision: 'approve',
    reason: i % 2 ? null : 'LGTM — checked the runbook ✓',
    channel: 'slack',
    rolesAtVote: ['sre-lead'],
    progress: { filled: 1, needed: 2 },
    ...overrides,
  } as ArtifactEvent;
}

export function eventAt(i: number): ArtifactEvent {
  switch (i % 4) {
    case 0:
      return {
        kind: 'action.escalated',
        actionId: `act_${i}`,
        intentHash: sha256Hex(`intent-${i}`),
        actionType: 'payment.send',
        actor: { kind: 'agent', id: 'agt_billing' },
        onBehalfOf: 'per_alice',
        owner: 'per_bob',
        policyDigest: sha256Hex('policy'),
        ruleIds: ['payments-over-10k'],
        reasons: ['amount above threshold'],
        requirement: { groups: [{ role: 'finance-lead', count: 1 }, { role: 'security', count: 1 }] },
        expiresAt: '2030-01-01T00:00:00.000Z',
      };
    case 1:
      return voteEvent(i);
    case 2:
      return {
        kind: 'action.decided',
        actionId: `act_${i}`,
        intentHash: sha256Hex(`intent-${i}`),
        actionType: 'payment.send',
        status: 'approved',
        decidedBy: 'per_carol',
        actor: { kind: 'agent', id: 'agt_billing' },
        onBehalfOf: null,
        policyDigest: sha256Hex('policy'),
        ruleIds: ['payments-over-10k'],
        reasons: [],
        approvers: [{ personId: 'per_carol', role: 'finance-lead' }, { personId: 'per_dan', role: 'security' }],
      };
    default:
      return { kind: 'config.changed', file: 'policy', digest: sha256Hex(`p${i}`), previousDigest: null };
  }
}

export interface Chain {
  artifacts: SealedArtifact[];
  trailer: ExportTrailer;
}

/** Seal n artifacts as the DB layer would (each linked to the previous) plus a trailer. */
export function sealChain(
  n: number,
  keyFor: SigningKey | ((seq: number) => SigningKey),
  opts: { firstSeq?: number; anchor?: string; trailerKey?: SigningKey } = {},
): Chain {
  const pick = typeof keyFor === 'function' ? keyFor : () => keyFor;
  const artifacts: SealedArtifact[] = [];
  let prevHash = opts.anchor ?? GENESIS_HASH;
  const firstSeq = opts.firstSeq ?? 1;
  const start = Date.parse('2025-03-01T09:00:00.000Z');
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const a = sealArtifact({ seq, prevHash, at: new Date(start + i * 1000), event: eventAt(i), key: pick(seq) });
    artifacts.push(a);
    prevHash = a.hash;
  }
  const last = artifacts.at(-1);
  const trailer = sealTrailer({
    records: n,
    firstSeq: n ? firstSeq : null,
    lastSeq: last?.seq ?? null,
    lastHash: last?.hash ?? null,
    from: null,
    to: null,
    exportedAt: new Date(start + n * 1000),
    key: opts.trailerKey ?? pick(firstSeq + n),
  });
  return { artifacts, trailer };
}

export function jsonlLines(chain: Chain): string[] {
  return [...chain.artifacts.map((a) => JSON.stringify(a)), JSON.stringify(chain.trailer)];
}
