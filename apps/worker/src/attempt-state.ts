import { defineLuaScript, loadLuaScript, luaDir } from '@switchyard/lua-scripts';
import type { JobKeys as Keys } from '@switchyard/jobs';
import type { Redis } from 'ioredis';

const START = loadLuaScript(luaDir('worker', import.meta.url), 'attempt-start-1.lua');
type StartCall = (key: string, ttlSeconds: number) => Promise<[number, number, number]>;

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
  private readonly startCall: StartCall;

  constructor(opts: { redis: Redis; keys: Keys; ttlSeconds: number }) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.ttlSeconds = opts.ttlSeconds;
    this.startCall = defineLuaScript(opts.redis, 'switchyardAttemptStart', START) as StartCall;
  }

  async start(jobId: string): Promise<AttemptStart> {
    const [n, modelAttempt, modelIndex] = await this.startCall(this.keys.attempts(jobId), this.ttlSeconds);
    return { n, modelAttempt, modelIndex };
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
