import { jobKeys, type JobKeys } from '@switchyard/jobs';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AttemptState } from './attempt-state.ts';

let handle: RedisHandle;
let redis: Redis;
let state: AttemptState;
let keys: JobKeys;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  keys = jobKeys(handle.prefix);
  state = new AttemptState({ redis, prefix: handle.prefix, ttlSeconds: 600 });
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

describe('attempt state (attempt-start-1.lua)', () => {
  it('numbers attempts over the job and per model, from any worker', async () => {
    const second = new Redis(handle.url);
    onTestFinished(() => second.disconnect());
    const other = new AttemptState({ redis: second, prefix: handle.prefix, ttlSeconds: 600 });
    expect(await state.start('j1')).toEqual({ n: 1, modelAttempt: 1, modelIndex: 0 });
    expect(await other.start('j1')).toEqual({ n: 2, modelAttempt: 2, modelIndex: 0 });
    await state.nextModel('j1');
    expect(await state.start('j1')).toEqual({ n: 3, modelAttempt: 1, modelIndex: 1 });
    expect(await state.modelIndex('j1')).toBe(1);
    const ttl = await redis.ttl(keys.attempts('j1'));
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('concurrent starts of one job never share a number', async () => {
    const starts = await Promise.all(Array.from({ length: 50 }, () => state.start('j2')));
    expect(new Set(starts.map((s) => s.n)).size).toBe(50);
  });
});
