export * from './catalog.ts';
export { JobQueues, InvalidJobPayload, type EnqueueOptions, type JobQueuesOptions } from './job-queues.ts';
export {
  startJobWorkers,
  giveUp,
  isUnrecoverable,
  type DeferReason,
  type JobContext,
  type JobEvents,
  type JobHandler,
  type JobHandlers,
  type JobWorkers,
  type JobWorkersOptions,
} from './job-workers.ts';
export { Pacer } from './pacer.ts';
export { currentTraceContext, contextFrom, inCarriedTrace, linkTo, tracer, setQueueTelemetry, SpanKind, TRACER_NAME } from './trace.ts';
export { RedisMutex } from './mutex.ts';
export { redisUnavailableReason } from './redis-errors.ts';
export { UnrecoverableError, DelayedError } from 'bullmq';
