import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerClock } from './server-clock.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('the pool clock', () => {
  let t: TestPool;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

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

  for (const skewMs of [30_000, -30_000]) {
    it(`with this host's clock ${skewMs > 0 ? 'ahead' : 'behind'} by 30 s, passes the server's time and leases expire on it`, async () => {
      t = await openTestPool({ now: undefined, leaseTtlMs: 10_000 });
      const local = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => local() + skewMs);
      const clock = new ServerClock(t.redis);
      clock.arg();
      await sleep(50);
      const server = await clock.now();
      expect(Math.abs(Number(clock.arg()) - server)).toBeLessThan(1000);
      expect(Math.abs(Date.now() - server)).toBeGreaterThan(25_000); // the skew is real

      await t.pool.upsert(proxySpec('a'));
      const lease = await leaseOk(t.pool, interactive('x.test'));
      const [s] = await t.redis.time();
      expect(Math.abs(lease.expiresAt - (Number(s) * 1000 + 10_000))).toBeLessThan(2000);
      // Not expired early by a clock ahead, nor kept by one behind: in flight until the server's expiry.
      expect((await t.pool.counts()).inFlight).toBe(1);
      expect(await t.pool.reclaimExpired()).toBe(0);
    });
  }
});
