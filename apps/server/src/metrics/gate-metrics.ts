import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GateObserver } from '@countersign/core';
import { counter, histogram } from './registered.ts';

// The engine's decisions as Prometheus series: what an on-call engineer pages on. Names and
// label values are the ones infra/observability's dashboard and alerts query (its README lists
// them; test/observability-files.test.ts checks every reference exists).

/** Escalations wait for people: from seconds (someone was watching) to days (policy expiry). */
const TIME_TO_DECISION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800];

/**
 * The rules behind a verdict as one label value: every rule of the winning outcome, sorted and
 * comma-joined, so each decision counts once (sum by outcome stays exact) and the set of values
 * is bounded by the policy file. `none` when no rule matched (refused: nothing allowed it).
 */
export function ruleLabel(ruleIds: readonly string[]): string {
  return ruleIds.length === 0 ? 'none' : [...ruleIds].sort().join(',');
}

/** The engine's observer on `registry`. A failing metric is logged, never thrown into a decision already made. */
export function gateMetrics(registry: Registry, logger: Logger): GateObserver {
  const decisions = counter(registry, 'countersign_decisions_total', 'Policy verdicts at submission, by outcome (approve, refuse, escalate) and the rules that produced it ("none": no rule matched).', [
    'outcome',
    'rule',
  ]);
  const votes = counter(registry, 'countersign_votes_total', 'Votes by channel (api, slack, teams, web) and result: approve, deny, or refused (the engine turned the vote down).', [
    'channel',
    'result',
  ]);
  const timeToDecision = histogram(
    registry,
    'countersign_time_to_decision_seconds',
    'Seconds from submission to the final state of escalated actions, by final state (approved, refused, expired, cancelled).',
    ['outcome'],
    TIME_TO_DECISION_BUCKETS,
  );
  const redemptions = counter(registry, 'countersign_release_redemptions_total', 'Release token redemptions by result: redeemed, already_redeemed, invalid (any other refusal).', ['result']);
  const artifactFailures = counter(
    registry,
    'countersign_artifact_write_failures_total',
    'Changes whose artifact could not be sealed (their transaction failed after sealing began): those decisions, votes or redemptions did not happen.',
  );

  const safely =
    <E>(what: string, record: (event: E) => void) =>
    (event: E) => {
      try {
        record(event);
      } catch (err) {
        logger.warn({ metric: what, err: (err as Error).message }, 'could not record a metric');
      }
    };
  return {
    decided: safely('decisions', (e) => decisions.inc({ outcome: e.outcome, rule: ruleLabel(e.ruleIds) })),
    voted: safely('votes', (e) => votes.inc({ channel: e.channel, result: e.result })),
    finalized: safely('time to decision', (e) => timeToDecision.observe({ outcome: e.status }, e.pendingSeconds)),
    redeemed: safely('redemptions', (e) => redemptions.inc({ result: e.result })),
    artifactWriteFailed: safely<void>('artifact write failures', () => artifactFailures.inc()),
  };
}
