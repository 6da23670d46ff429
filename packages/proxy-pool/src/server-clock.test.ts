import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerClock } from './server-clock.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('the pool clock', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('without a test clock, leases expire on the Redis server clock', async () => {
    t = await openTestPool({ now: undefined, leaseTtlMs: 30_000 });
    await t.pool.upsert(proxySpec('a'));
    const [s] = await t.redis.time();
    const first = await leaseOk(t.pool, interactive('x.test'));
    expect(Math.abs(first.expiresAt - (Number(s) * 1000 + 30_000))).toBeLessThan(2000);
    await sleep(20);
    const second = await leaseOk(t.pool, interactive('x.test'));
    expect(second.expiresAt).toBeGreaterThanOrEqual(first.expiresAt);
    expect(second.expiresAt - first.expiresAt).toBeLessThan(2000);
  });

  it('measures its offset to the server once, then passes corrected local time', async () => {
    t = await openTestPool();
    const clock = new ServerClock(t.redis);
    expect(clock.arg()).toBe('');
    await sleep(50);
    const arg = Number(clock.arg());
    expect(Math.abs(arg - (await clock.now()))).toBeLessThan(1000);
    expect(new ServerClock(t.redis, () => 42.7).arg()).toBe('42');
  });
});
