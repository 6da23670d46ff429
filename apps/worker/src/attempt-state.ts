import { jobKeys, type JobKeys } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';
import { defineScripts, type ScriptRunner } from './scripts.ts';

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
  private readonly redis: Redis | Cluster;
  private readonly keys: JobKeys;
  private readonly ttlSeconds: number;
  private readonly run: ScriptRunner;

  constructor(opts: { redis: Redis | Cluster; prefix: string; ttlSeconds: number }) {
    this.redis = opts.redis;
    this.keys = jobKeys(opts.prefix);
    this.ttlSeconds = opts.ttlSeconds;
    this.run = defineScripts(opts.redis);
  }

  async start(jobId: string): Promise<AttemptStart> {
    const reply = await this.run('attempt-start', [this.keys.attempts(jobId)], [this.ttlSeconds]);
    const [n, modelAttempt, modelIndex] = reply as [number, number, number];
    return { n, modelAttempt, modelIndex };
  }

  /**
   * Gives back a number taken for an attempt that never started (the job ended at its cancel or
   * deadline check), so the job's `attempts` still counts only attempts made. Rare: two commands.
   */
  async unstart(jobId: string): Promise<void> {
    const key = this.keys.attempts(jobId);
    await this.redis.multi().hincrby(key, 'n', -1).hincrby(key, 'mn', -1).exec();
  }

  /** Counts an attempt of the job that ended in a TLS failure through a proxy; answers the count. */
  async countTlsFailure(jobId: string): Promise<number> {
    return this.redis.hincrby(this.keys.attempts(jobId), 'tls', 1); // rare: TLS failures only
  }

  async modelIndex(jobId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.attempts(jobId), 'm')) ?? 0);
  }

  /** Moves the job to its next fallback model; attempts on it start from zero. */
  async nextModel(jobId: string): Promise<void> {
    const key = this.keys.attempts(jobId);
    await this.redis.multi().hincrby(key, 'm', 1).hset(key, 'mn', 0).exec(); // rare: fallbacks only
  }
}
