import { Queue, type JobType } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS, QUEUE_NAMES, type JobName, type QueueName } from '@countersign/queue';
import { sleep } from './escalation-flow.ts';

// The service's queues seen from the benchmark process (same Redis, same prefix): how many jobs
// wait or run, and pausing the queue that posts cards so the stage benchmark can hold them.

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

  /** Jobs in these states on the queue that carries `job` (whatever their names). */
  async count(job: JobName, types: readonly JobType[]): Promise<number> {
    return this.unfinished(this.queueOf(job), types);
  }

  private async unfinished(queue: Queue, types: readonly JobType[] = UNFINISHED): Promise<number> {
    const counts = await queue.getJobCounts(...types);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /**
   * Nothing left to run on the queues that `jobs` use, delayed jobs included except on the
   * timers queue, where expiries wait by design.
   */
  async idle(jobs: JobName[]): Promise<boolean> {
    for (const q of new Set(jobs.map((j) => JOBS[j].queue))) {
      const types = q === JOBS.expire.queue ? UNFINISHED.filter((t) => t !== 'delayed') : UNFINISHED;
      if ((await this.unfinished(this.queues.get(q)!, types)) > 0) return false;
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

/** The jobs an escalation's life runs after its submission: cards, updates, notices, release. */
export const ESCALATION_JOBS: JobName[] = ['post-cards', 'update-cards', 'notify-requester', 'execute-action'];
