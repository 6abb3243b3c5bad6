import { z } from 'zod';
import { TraceContextSchema } from '@countersign/contracts';

// The job catalog: the single source of truth for every queue job. Each entry says which queue
// carries it, what its payload looks like (validated when enqueued AND when consumed), how
// often it is tried and how it backs off, and how its id is made. Ids are deterministic so
// that enqueueing the same work twice (a re-dispatched outbox event, the sweeper rebuilding
// timers) is a no-op while the first job is still known to Redis. Correctness never rests on
// that dedupe alone: every processor is idempotent against Postgres.

/**
 * Queues group jobs by what they wait on, so a slow webhook never holds up a card:
 * `chat` talks to Slack/Teams, `timers` are delayed jobs, `deliveries` call out to the
 * organisation's own endpoints.
 */
export const QUEUE_NAMES = ['chat', 'timers', 'deliveries'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

// BullMQ refuses ':' in custom job ids; ids here join parts with '/', so no part may hold
// either character.
const IdPart = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, "_", "-" and "." only');
const ActionId = IdPart;

/** Custom backoff type, implemented by `backoffDelay` (exponential, jittered, capped). */
export const BACKOFF_TYPE = 'capped-exponential';

export interface Backoff {
  /** First retry after about this long; doubles with each attempt. */
  baseMs: number;
  /** Never wait longer than this between attempts. */
  maxMs: number;
  /** Fraction of the delay that is randomised (0–1), so retries of many jobs spread out. */
  jitter: number;
}

export interface JobSpec<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  schema: S;
  /** Total tries, the first included. */
  attempts: number;
  backoff: Backoff;
  /** Deterministic job id; `ref` tells apart two causes of the same job (an outbox event id). */
  jobId(payload: z.output<S>, ref?: string): string;
}

function spec<S extends z.ZodType>(s: JobSpec<S>): JobSpec<S> {
  return s;
}

function id(...parts: (string | number | undefined)[]): string {
  return parts.filter((p) => p !== undefined).join('/');
}

/**
 * Every payload may carry where it sits in a trace (JobQueues.enqueue stamps it while tracing is
 * on); it never takes part in the job id, so the same work traced or not is still one job.
 */
const Trace = TraceContextSchema.optional();

const OneAction = z.strictObject({ actionId: ActionId, trace: Trace });

/**
 * A job about one action as a whole. `perEvent`: every outbox event that asks for it gets a job
 * of its own (its `ref` is part of the id), so a later vote re-renders again; otherwise one job
 * per action.
 */
function actionJob(name: string, s: Omit<JobSpec, 'schema' | 'jobId'> & { perEvent: boolean }): JobSpec<typeof OneAction> {
  return { queue: s.queue, schema: OneAction, attempts: s.attempts, backoff: s.backoff, jobId: (p, ref) => id(name, p.actionId, s.perEvent ? ref : undefined) };
}

/** A job about one numbered step of an action (a tier, a reminder): one job per step. */
function stepJob<K extends string>(name: string, step: K, range: { min: number; max: number }, s: Omit<JobSpec, 'schema' | 'jobId'>) {
  const shape = { actionId: ActionId, trace: Trace, [step]: z.int().min(range.min).max(range.max) } as { actionId: typeof ActionId; trace: typeof Trace } & Record<K, z.ZodInt>;
  // The schema above is exactly this shape; TypeScript cannot see through the computed key.
  const jobId = (p: unknown) => id(name, (p as { actionId: string }).actionId, (p as Record<K, number>)[step]);
  return spec({ ...s, schema: z.strictObject(shape), jobId });
}

/** Chat calls and timers: a minute at most between tries. */
const MINUTE_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 60_000, jitter: 0.5 };
/** The organisation's own endpoints may be down for a while: up to five minutes. */
const DELIVERY_BACKOFF: Backoff = { baseMs: 2_000, maxMs: 300_000, jitter: 0.5 };

export const JOBS = {
  /** Post the approval card to every target of one tier (0 = the rule's first ask). */
  'post-cards': stepJob('post-cards', 'tier', { min: 0, max: 50 }, { queue: 'chat', attempts: 12, backoff: MINUTE_BACKOFF }),
  /**
   * Re-render every posted card of the action from its current state; once the action is
   * decided, also tell the requester how it ended (what notify-requester does). The payload is
   * the same as before that was added: a worker of the previous release still runs these jobs.
   */
  'update-cards': actionJob('update-cards', { queue: 'chat', attempts: 12, backoff: { baseMs: 500, maxMs: 30_000, jitter: 0.5 }, perEvent: true }),
  /** The rule's reminder number `index` (0-based, in requirement.channels.reminders). */
  remind: stepJob('remind', 'index', { min: 0, max: 100 }, { queue: 'timers', attempts: 6, backoff: MINUTE_BACKOFF }),
  /** Escalation tier `tier` (1-based: requirement.channels.tiers[tier - 1]) is due. */
  'escalate-tier': stepJob('escalate-tier', 'tier', { min: 1, max: 50 }, { queue: 'timers', attempts: 8, backoff: MINUTE_BACKOFF }),
  /** The action's expiry is due: refuse it (fail closed) if still pending. */
  expire: actionJob('expire', { queue: 'timers', attempts: 20, backoff: { baseMs: 500, maxMs: 30_000, jitter: 0.3 }, perEvent: false }),
  /** Tell the person behind the request how it ended. */
  'notify-requester': actionJob('notify-requester', { queue: 'chat', attempts: 10, backoff: MINUTE_BACKOFF, perEvent: true }),
  /** POST the final decision to the intent's callbackUrl (through ctx.deliveries). */
  'deliver-webhook': actionJob('deliver-webhook', { queue: 'deliveries', attempts: 10, backoff: DELIVERY_BACKOFF, perEvent: true }),
  /** Held execution of an approved action (through ctx.deliveries). */
  'execute-action': actionJob('execute-action', { queue: 'deliveries', attempts: 10, backoff: DELIVERY_BACKOFF, perEvent: true }),
} as const;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]['schema']>;
/** One job as a value: a name with the payload that name takes, never another's (a union over the catalog). */
export type JobRequest<N extends JobName = JobName> = { [K in N]: { name: K; payload: JobPayload<K> } }[N];
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}

/** Job names carried by one queue. */
export function jobsOn(queue: QueueName): JobName[] {
  return JOB_NAMES.filter((n) => JOBS[n].queue === queue);
}

/**
 * Delay before retry number `attemptsMade` (1 after the first failure): exponential from
 * `baseMs`, capped at `maxMs`, with `jitter` of it randomised, and never sooner than the
 * server asked (`retryAfterMs` on the error, e.g. Slack's Retry-After).
 */
export function backoffDelay(backoff: Backoff, attemptsMade: number, err?: unknown, random: () => number = Math.random): number {
  const exp = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  const delay = Math.round(exp * (1 - backoff.jitter) + exp * backoff.jitter * random());
  const asked = retryAfterOf(err);
  return asked !== undefined ? Math.max(delay, asked) : delay;
}

/** `retryAfterMs` of a ChannelError / DeliveryError (or anything shaped like one). */
export function retryAfterOf(err: unknown): number | undefined {
  const v = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
