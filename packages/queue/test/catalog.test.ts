import { describe, expect, it } from 'vitest';
import { backoffDelay, JOB_NAMES, JOBS, jobsOn, QUEUE_NAMES, retryAfterOf, type JobRequest } from '../src/catalog.ts';

describe('job catalog', () => {
  it('gives every job a queue, attempts, a backoff and a deterministic id BullMQ accepts', () => {
    expect(JOB_NAMES.sort()).toEqual(['deliver-webhook', 'escalate-tier', 'execute-action', 'expire', 'notify-requester', 'post-cards', 'remind', 'update-cards']);
    for (const name of JOB_NAMES) {
      const spec = JOBS[name];
      expect(QUEUE_NAMES).toContain(spec.queue);
      expect(spec.attempts).toBeGreaterThan(1);
      expect(spec.backoff.maxMs).toBeGreaterThanOrEqual(spec.backoff.baseMs);
    }
    expect(JOBS['post-cards'].jobId({ actionId: 'act_1', tier: 0 })).toBe('post-cards/act_1/0');
    expect(JOBS.expire.jobId({ actionId: 'act_1' })).toBe('expire/act_1');
    // One expiry per action, whichever event asked for it; a notice per decision event.
    expect(JOBS.expire.jobId({ actionId: 'act_1' }, '7')).toBe('expire/act_1');
    expect(JOBS['notify-requester'].jobId({ actionId: 'act_1' }, '7')).toBe('notify-requester/act_1/7');
    expect(JOBS['update-cards'].jobId({ actionId: 'act_1' }, '42')).toBe('update-cards/act_1/42');
    expect(JOBS.remind.jobId({ actionId: 'act_1', index: 1 })).toBe('remind/act_1/1');
    // BullMQ refuses ':' in custom ids.
    for (const name of JOB_NAMES) expect(JOBS[name].jobId({ actionId: 'act_1', tier: 1, index: 0 } as never, '7')).not.toContain(':');
    expect(jobsOn('timers').sort()).toEqual(['escalate-tier', 'expire', 'remind']);
  });

  it('types a job as one value: a name never travels with another job\'s payload', () => {
    const jobs: JobRequest[] = [
      { name: 'remind', payload: { actionId: 'act_1', index: 0 } },
      { name: 'expire', payload: { actionId: 'act_1' } },
      // @ts-expect-error remind's payload needs its index (tsc checks this file)
      { name: 'remind', payload: { actionId: 'act_1' } },
    ];
    // At run time the catalog's schema is the check, when enqueued and when consumed.
    expect(jobs.map((j) => JOBS[j.name].schema.safeParse(j.payload).success)).toEqual([true, true, false]);
  });

  it('refuses payloads that do not match', () => {
    expect(JOBS['post-cards'].schema.safeParse({ actionId: 'act_1', tier: 0 }).success).toBe(true);
    expect(JOBS['post-cards'].schema.safeParse({ actionId: 'act_1' }).success).toBe(false);
    expect(JOBS['post-cards'].schema.safeParse({ actionId: 'act_1', tier: 0, more: 1 }).success).toBe(false);
    expect(JOBS.expire.schema.safeParse({ actionId: 'act/1' }).success).toBe(false);
    expect(JOBS.expire.schema.safeParse({ actionId: 'act:1' }).success).toBe(false);
    expect(JOBS['escalate-tier'].schema.safeParse({ actionId: 'act_1', tier: 0 }).success).toBe(false);
  });

  it('backs off exponentially with jitter, capped, and never sooner than Retry-After', () => {
    const b = { baseMs: 1_000, maxMs: 10_000, jitter: 0.5 };
    expect(backoffDelay(b, 1, undefined, () => 1)).toBe(1_000);
    expect(backoffDelay(b, 1, undefined, () => 0)).toBe(500);
    expect(backoffDelay(b, 3, undefined, () => 1)).toBe(4_000);
    expect(backoffDelay(b, 10, undefined, () => 1)).toBe(10_000);
    expect(backoffDelay(b, 1, { retryAfterMs: 30_000 }, () => 1)).toBe(30_000);
    expect(backoffDelay(b, 3, { retryAfterMs: 10 }, () => 1)).toBe(4_000);
    expect(retryAfterOf(new Error('x'))).toBeUndefined();
    expect(retryAfterOf({ retryAfterMs: -1 })).toBeUndefined();
  });
});
