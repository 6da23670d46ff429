import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { jobKeys } from '@switchyard/jobs';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryBudget, upstreamOf, type BudgetScope } from './retry-budget.ts';

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

// Each test has budgets of its own: one prefix per test.
const prefixOf = (name: string) => `${handle.prefix}-${name}`;
const budget = (name: string, ratio = 0.2, floor = 0, client = redis) =>
  new RetryBudget({ redis: client, prefix: prefixOf(name), ratio, windowSeconds: 10, floor });
const A: BudgetScope = { upstream: 'model:a', tenantId: 't1' };
const asks = (b: RetryBudget, scope: BudgetScope, n: number) =>
  Promise.all(Array.from({ length: n }, () => b.allowRetry(scope))).then((got) => got.filter(Boolean).length);

describe('retry budget (retry-budget-2.lua)', () => {
  it('allows retries up to ratio × first attempts in the window, then refuses', async () => {
    const b = budget('ratio');
    for (let i = 0; i < 50; i++) await b.recordFirst(A);
    expect(await asks(b, A, 30)).toBe(10);
  });

  it('first attempts counted in batches (countFirst) weigh the same, with one script call per scope per flush', async () => {
    const b = budget('batched');
    for (let i = 0; i < 50; i++) b.countFirst(A);
    // Sent by the flush timer without anyone asking: one HINCRBY of 50, not 50 calls.
    const key = jobKeys(prefixOf('batched')).retryBudget(A.upstream);
    await new Promise((r) => setTimeout(r, 250));
    const fields = await redis.hgetall(key);
    expect(
      Object.entries(fields)
        .filter(([f]) => f.startsWith('f:'))
        .map(([, v]) => v),
    ).toEqual(['50']);
    for (let i = 0; i < 50; i++) b.countFirst(A);
    // Asking for a retry sends what is pending first: 100 firsts allow 20 retries.
    expect(await asks(b, A, 30)).toBe(20);
  });

  it('the floor lets a quiet upstream retry a little', async () => {
    const b = budget('floor', 0.1, 3);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await b.allowRetry(A));
    expect(answers).toEqual([true, true, true, false, false]);
  });

  it('is shared by every client of the same Redis', async () => {
    const other = new Redis(handle.url);
    try {
      const a = budget('shared', 0.5);
      const b = budget('shared', 0.5, 0, other);
      for (let i = 0; i < 10; i++) await a.recordFirst(A);
      const got = await Promise.all([asks(a, A, 6), asks(b, A, 6)]);
      expect(got[0] + got[1]).toBe(5);
    } finally {
      other.disconnect();
    }
  });

  it('one upstream spending its budget leaves every other upstream its own', async () => {
    const b = budget('upstreams', 0.2, 2);
    const failing: BudgetScope = { upstream: 'host:busy.example', tenantId: 't1' };
    const healthy: BudgetScope = { upstream: 'model:b', tenantId: 't1' };
    for (let i = 0; i < 50; i++) b.countFirst(failing);
    for (let i = 0; i < 50; i++) b.countFirst(healthy);
    expect(await asks(b, failing, 40)).toBe(12);
    expect(await asks(b, healthy, 12)).toBe(12);
  });

  it('a tenant spends only its own share of an upstream: another tenant keeps what its first attempts earned', async () => {
    const b = budget('tenants', 0.2, 5);
    const noisy: BudgetScope = { upstream: 'model:a', tenantId: 'noisy' };
    const quiet: BudgetScope = { upstream: 'model:a', tenantId: 'quiet' };
    for (let i = 0; i < 100; i++) b.countFirst(noisy);
    for (let i = 0; i < 50; i++) b.countFirst(quiet);
    // The noisy tenant gets its ratio share and the floor (20 + 5), then is refused...
    expect(await asks(b, noisy, 60)).toBe(25);
    // ...and the quiet one still has the 10 its 50 first attempts earned (the floor is spent).
    expect(await asks(b, quiet, 20)).toBe(10);
  });

  it('names the upstream: the model in use for a completion, the host for a scrape', () => {
    const completion = { type: 'completion', request: { model: 'gpt', messages: [] } } as never;
    expect(upstreamOf(completion, null)).toBe('model:gpt');
    expect(upstreamOf(completion, 'fallback')).toBe('model:fallback');
    const scrape = { type: 'scrape', request: { url: 'https://Shop.Example:8443/a?b' } } as never;
    expect(upstreamOf(scrape, null)).toBe('host:shop.example');
  });

  it('the script documents KEYS, ARGV and its return value', () => {
    const src = readFileSync(new URL('./lua/retry-budget-2.lua', import.meta.url), 'utf8');
    expect(src).toMatch(/KEYS\[2\]/);
    expect(src).toMatch(/ARGV\[1\]/);
    expect(src).toMatch(/Returns/);
  });
});
