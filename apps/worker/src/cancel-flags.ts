import type { JobKeys as Keys } from '@switchyard/jobs';
import type { Redis } from 'ioredis';

/**
 * The cancel flag the API sets on `DELETE /v1/jobs/{id}`. The flag outlives the cancel message
 * (`CancelListener`), so a job is still known as canceled when it is picked up later, or when its
 * abort signal fired and the failure must be told apart from a timeout.
 */
export class CancelFlags {
  private readonly redis: Redis;
  private readonly keys: Keys;

  constructor(opts: { redis: Redis; keys: Keys }) {
    this.redis = opts.redis;
    this.keys = opts.keys;
  }

  async isCanceled(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.cancel(jobId))) === 1;
  }
}
