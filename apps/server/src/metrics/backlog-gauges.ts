import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '@countersign/core';
import type { BacklogSnapshot } from '@countersign/db';
import { scrapedGauge } from './registered.ts';
import { withTimeout } from './with-timeout.ts';

// Pending actions and the outbox, read from Postgres when Prometheus scrapes: the state is
// shared, so every process reports the same numbers (the dashboard and alerts take max()).
// When Postgres does not answer, the series are left out of that scrape rather than reported
// stale or as zero: "nothing pending" must never be said by a process that cannot know.

export interface BacklogSource {
  backlog(): Promise<BacklogSnapshot>;
}

/** Longest a scrape waits for the query. */
const QUERY_TIMEOUT_MS = 2_000;

export function backlogGauges(registry: Registry, source: BacklogSource, clock: Clock, logger: Logger): void {
  // The three gauges are collected together in one scrape: they share one query.
  let inFlight: Promise<BacklogSnapshot | undefined> | undefined;
  const snapshot = () =>
    (inFlight ??= withTimeout(source.backlog(), QUERY_TIMEOUT_MS)
      .catch((err: Error) => {
        logger.warn({ err: err.message }, 'metrics: could not read the backlog from Postgres; pending and outbox gauges left out');
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      }));

  scrapedGauge(registry, 'countersign_pending_actions', 'Escalated actions waiting for a final decision (from Postgres, at scrape time).', [], async (gauge) => {
    const s = await snapshot();
    if (s) gauge.set(s.pendingActions);
    else gauge.remove();
  });
  scrapedGauge(
    registry,
    'countersign_oldest_pending_action_age_seconds',
    'Seconds the oldest pending action has waited since submission; 0 when none is pending.',
    [],
    async (gauge) => {
      const s = await snapshot();
      if (!s) return void gauge.remove();
      gauge.set(s.oldestPendingSince ? Math.max(0, (clock.now().getTime() - s.oldestPendingSince.getTime()) / 1000) : 0);
    },
  );
  scrapedGauge(registry, 'countersign_outbox_lag_seconds', 'Age in seconds of the oldest outbox row not yet turned into queue jobs; 0 when none waits.', [], async (gauge) => {
    const s = await snapshot();
    if (s) gauge.set(s.outboxLagSeconds);
    else gauge.remove();
  });
}
