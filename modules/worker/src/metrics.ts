import { Counter, type Registry } from 'prom-client';

// The engine's counters, on the app's registry (served at /metrics in every role).

export interface WorkerMetrics {
  jobsCompleted: Counter<'job'>;
  jobsFailed: Counter<'job' | 'final'>;
  jobsDeferred: Counter<'job' | 'reason'>;
  channelErrors: Counter<'channel' | 'code' | 'retryable'>;
  outboxDispatched: Counter;
  outboxErrors: Counter;
  sweeps: Counter;
  timersRebuilt: Counter<'job'>;
  sweptExpired: Counter;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  // Idempotent per registry: a second engine on the same app reuses the counters.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function workerMetrics(registry: Registry): WorkerMetrics {
  return {
    jobsCompleted: counter(registry, 'countersign_jobs_completed_total', 'Queue jobs completed, by job name.', ['job']),
    jobsFailed: counter(registry, 'countersign_jobs_failed_total', 'Queue job attempts that failed, by job name; final="true" when no retry follows.', ['job', 'final']),
    jobsDeferred: counter(registry, 'countersign_jobs_deferred_total', 'Jobs put back without spending an attempt (pacing, Retry-After, busy, not due).', ['job', 'reason']),
    channelErrors: counter(registry, 'countersign_channel_errors_total', 'Errors reported by chat channels, by channel and code; retryable="false" ones are never retried.', [
      'channel',
      'code',
      'retryable',
    ]),
    outboxDispatched: counter(registry, 'countersign_outbox_dispatched_total', 'Outbox events turned into queue jobs.', []),
    outboxErrors: counter(registry, 'countersign_outbox_dispatch_errors_total', 'Outbox dispatch rounds that failed (retried by the next round).', []),
    sweeps: counter(registry, 'countersign_sweeps_total', 'Sweeper runs.', []),
    timersRebuilt: counter(registry, 'countersign_sweeper_jobs_rebuilt_total', 'Jobs the sweeper re-created or promoted from Postgres state, by job name.', ['job']),
    sweptExpired: counter(registry, 'countersign_sweeper_expired_total', 'Overdue actions the sweeper expired directly.', []),
  };
}
