import type { Keys } from '@switchyard/queue';
import type { Redis } from 'ioredis';

export interface AttemptStart {
  /** Number of this attempt over the whole job, 1-based. */
  n: number;
  /** Index of the model in use: 0 is the requested model, then the fallbacks in order. */
  modelIndex: number;
  /** Number of this attempt on the current model, 1-based. */
  modelAttempt: number;
}

/** Per-job attempt counters in Redis, so every worker (and every re-run) numbers attempts alike. */
export class AttemptState {
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly ttlSeconds: number;

  constructor(opts: { redis: Redis; keys: Keys; ttlSeconds: number }) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.ttlSeconds = opts.ttlSeconds;
  }

  async start(jobId: string): Promise<AttemptStart> {
    const key = this.keys.attempts(jobId);
    const res = await this.redis
      .multi()
      .hincrby(key, 'n', 1)
      .hincrby(key, 'mn', 1)
      .hget(key, 'm')
      .expire(key, this.ttlSeconds)
      .exec();
    const value = (i: number) => Number(res?.[i]?.[1] ?? 0);
    return { n: value(0), modelAttempt: value(1), modelIndex: value(2) };
  }

  async modelIndex(jobId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.attempts(jobId), 'm')) ?? 0);
  }

  /** Moves the job to its next fallback model; attempts on it start from zero. */
  async nextModel(jobId: string): Promise<void> {
    const key = this.keys.attempts(jobId);
    await this.redis.multi().hincrby(key, 'm', 1).hset(key, 'mn', 0).exec();
  }
}
