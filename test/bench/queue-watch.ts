import { Queue, type JobType } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS, QUEUE_NAMES, type JobName, type QueueName } from '@countersign/queue';
import { sleep } from './escalation-flow.ts';

// The service's queues seen from the benchmark process (same Redis, same prefix): whether any
// job is left to run, and the queue that posts cards, which the stage benchmark pauses.

/** Jobs not finished yet: waiting (a paused queue's too), prioritised, running or delayed (retries, pacing). */
const UNFINISHED = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children'] as const;

export class QueueWatch {
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();

  constructor(redisUrl: string, prefix: string) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    for (const name of QUEUE_NAMES) this.queues.set(name, new Queue(name, { connection: this.connection, prefix }));
  }

  /** The queue that carries `job` (to pause it, or read its finished jobs). */
  queueOf(job: JobName): Queue {
    return this.queues.get(JOBS[job].queue)!;
  }

  private async unfinished(queue: Queue, types: readonly JobType[] = UNFINISHED): Promise<number> {
    const counts = await queue.getJobCounts(...types);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /**
   * Nothing left to run on any queue, delayed jobs included (retries, pacing deferrals) except
   * on the timers queue, where expiries wait by design.
   */
  async idle(): Promise<boolean> {
    for (const [name, queue] of this.queues) {
      const types = name === JOBS.expire.queue ? UNFINISHED.filter((t) => t !== 'delayed') : UNFINISHED;
      if ((await this.unfinished(queue, types)) > 0) return false;
    }
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}

/** Polls `done` every `everyMs` until it holds; throws after `timeoutMs` naming `what`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
