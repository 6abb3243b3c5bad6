import type { Redis } from 'ioredis';

// Per (channel, target) pacing shared by every worker process: Slack allows about one message
// per second per channel, Teams a few per conversation. A job that finds the slot taken is
// deferred (moved back to delayed) rather than sleeping, so it holds no worker meanwhile.

// Take the slot if free (SET NX PX); else say how long until it frees up.
const TAKE = `
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 1 then return 1 end
return ttl`;

export class Pacer {
  /**
   * @param intervals minimum milliseconds between two messages to one target, by channel
   *   name (`slack`, `teams`, …); a channel missing here or at 0 is not paced.
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly intervals: Readonly<Record<string, number>>,
  ) {}

  intervalFor(channel: string): number {
    return this.intervals[channel] ?? 0;
  }

  /** 0: go ahead, the slot is yours. Otherwise: milliseconds to wait before asking again. */
  async take(channel: string, target: string): Promise<number> {
    const interval = this.intervalFor(channel);
    if (interval <= 0) return 0;
    const wait = await this.redis.eval(TAKE, 1, `${this.prefix}:pace:${channel}:${target}`, String(Math.round(interval)));
    return Number(wait);
  }
}
