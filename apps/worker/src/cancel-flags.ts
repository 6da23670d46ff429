import { jobKeys, type JobKeys } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';

/**
 * The cancel flag the API sets on `DELETE /v1/jobs/{id}`. The flag outlives the cancel message
 * (`CancelListener`), so a job is still known as canceled when it is picked up later, or when its
 * abort signal fired and the failure must be told apart from a timeout.
 */
export class CancelFlags {
  private readonly redis: Redis | Cluster;
  private readonly keys: JobKeys;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.keys = jobKeys(opts.prefix);
  }

  async isCanceled(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.cancel(jobId))) === 1;
  }
}
