import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { jobKeys } from '@switchyard/jobs';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.ts';

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

// Each test has a budget of its own: one per prefix.
const prefixOf = (name: string) => `${handle.prefix}-${name}`;
const budget = (name: string, ratio = 0.2, floor = 0) =>
  new RetryBudget({ redis, prefix: prefixOf(name), ratio, windowSeconds: 10, floor });

describe('retry budget (retry-budget-1.lua)', () => {
  it('allows retries up to ratio × first attempts in the window, then refuses', async () => {
    const b = budget('ratio');
    for (let i = 0; i < 50; i++) await b.recordFirst();
    const answers = await Promise.all(Array.from({ length: 30 }, () => b.allowRetry()));
    expect(answers.filter(Boolean)).toHaveLength(10);
  });

  it('first attempts counted in batches (countFirst) weigh the same, with one script call per flush', async () => {
    const b = budget('batched');
    for (let i = 0; i < 50; i++) b.countFirst();
    // Sent by the flush timer without anyone asking: one HINCRBY of 50, not 50 calls.
    const key = jobKeys(prefixOf('batched')).retryBudget;
    await new Promise((r) => setTimeout(r, 250));
    const fields = await redis.hgetall(key);
    expect(
      Object.entries(fields)
        .filter(([f]) => f.startsWith('f:'))
        .map(([, v]) => v),
    ).toEqual(['50']);
    for (let i = 0; i < 50; i++) b.countFirst();
    // Asking for a retry sends what is pending first: 100 firsts allow 20 retries.
    const answers = await Promise.all(Array.from({ length: 30 }, () => b.allowRetry()));
    expect(answers.filter(Boolean)).toHaveLength(20);
  });

  it('the floor lets a quiet fleet retry a little', async () => {
    const b = budget('floor', 0.1, 3);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await b.allowRetry());
    expect(answers).toEqual([true, true, true, false, false]);
  });

  it('is shared by every client of the same Redis', async () => {
    const other = new Redis(handle.url);
    try {
      const a = budget('shared', 0.5);
      const b = new RetryBudget({
        redis: other,
        prefix: prefixOf('shared'),
        ratio: 0.5,
        windowSeconds: 10,
        floor: 0,
      });
      for (let i = 0; i < 10; i++) await a.recordFirst();
      const got = await Promise.all([
        ...Array.from({ length: 6 }, () => a.allowRetry()),
        ...Array.from({ length: 6 }, () => b.allowRetry()),
      ]);
      expect(got.filter(Boolean)).toHaveLength(5);
    } finally {
      other.disconnect();
    }
  });

  it('the script documents KEYS, ARGV and its return value', () => {
    const src = readFileSync(new URL('./lua/retry-budget-1.lua', import.meta.url), 'utf8');
    expect(src).toMatch(/KEYS\[1\]/);
    expect(src).toMatch(/ARGV\[1\]/);
    expect(src).toMatch(/Returns/);
  });
});
