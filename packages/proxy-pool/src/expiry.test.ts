import { afterEach, describe, expect, it } from 'vitest';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('lease expiry: reclaim-4.lua, renew-1.lua and the reclaim inside lease', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('an expired lease returns its capacity and a late release is rejected as stale', async () => {
    t = await openTestPool({ leaseTtlMs: 10_000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    const held = await leaseOk(t.pool, interactive('x.test'));
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true });

    // the worker holding it was killed; after the TTL the slot comes back
    t.clock.advance(10_000);
    const next = await leaseOk(t.pool, interactive('x.test'));
    expect(next.proxyId).toBe('a');
    expect(next.epoch).toBeGreaterThan(held.epoch);

    expect(await t.pool.release(held, { outcome: 'proxy_fault', bytes: 99 })).toBe('stale');
    const [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', inFlight: 1, bytes: 0, consecutiveFaults: 0 });
    expect(a?.outcomes.expired).toBe(1);
    expect(await t.pool.release(next, { outcome: 'ok' })).toBe('released');
  });

  it('a release after the TTL is stale even before anything reclaimed the lease', async () => {
    t = await openTestPool({ leaseTtlMs: 1000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    const held = await leaseOk(t.pool, interactive('x.test'));
    t.clock.advance(1000);
    expect(await t.pool.release(held, { outcome: 'ok' })).toBe('stale');
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0, outcomes: { expired: 1, ok: 0 } });
  });

  it('reclaimExpired gives back the capacity of leases held by a killed worker', async () => {
    t = await openTestPool({ leaseTtlMs: 5000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 3 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 3 }));
    for (let i = 0; i < 5; i++) await leaseOk(t.pool, interactive('x.test'));
    expect((await t.pool.counts()).inFlight).toBe(5);
    t.clock.advance(4999);
    expect(await t.pool.reclaimExpired()).toBe(0);
    t.clock.advance(1);
    expect(await t.pool.reclaimExpired()).toBe(5);
    expect(await t.pool.counts()).toMatchObject({ inFlight: 0, capacity: 6 });
    expect((await t.pool.list()).map((p) => p.inFlight)).toEqual([0, 0]);
  });

  it('renew keeps a long lease alive; renewing an expired or released one is stale', async () => {
    t = await openTestPool({ leaseTtlMs: 1000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    const lease = await leaseOk(t.pool, interactive('x.test'));
    t.clock.advance(900);
    const renewed = await t.pool.renew(lease, 5000);
    if (renewed === 'stale') throw new Error('renew failed');
    expect(renewed.expiresAt).toBe(t.clock.now() + 5000);
    expect(renewed.proxyUrl).toBe(lease.proxyUrl);
    t.clock.advance(4000);
    expect(await t.pool.reclaimExpired()).toBe(0);
    expect(await t.pool.release(renewed, { outcome: 'ok' })).toBe('released');
    expect(await t.pool.renew(renewed)).toBe('stale');

    const short = await leaseOk(t.pool, interactive('x.test'));
    t.clock.advance(1000);
    expect(await t.pool.renew(short)).toBe('stale');
  });

  it('host keys are dropped once every cooldown, ban, block score and pacing state for the host has ended', async () => {
    t = await openTestPool({
      cooldown: { baseMs: 1000, resetAfterMs: 2000 },
      ban: { windowMs: 5000 },
      pacing: { idleMs: 5000 },
    });
    await t.pool.upsert(proxySpec('a'));
    const first = await leaseOk(t.pool, interactive('x.test'));
    const second = await leaseOk(t.pool, interactive('x.test'));
    // cooling ends at +1 s, its streak is kept 2 s longer; the block score lives for its 5 s
    // window, and the pair's pacing (from the 429) as long when it stays idle
    await t.pool.release(first, { outcome: 'rate_limited' });
    await t.pool.release(second, { outcome: 'blocked' });
    const hostKeys = async () => (await t.redis.keys(`${t.pool.keys.base}*x.test`)).sort();
    expect(await hostKeys()).not.toEqual([]);
    t.clock.advance(4999);
    await t.pool.reclaimExpired();
    expect(await hostKeys()).not.toEqual([]);
    t.clock.advance(1);
    await t.pool.reclaimExpired();
    expect(await hostKeys()).toEqual([]);
    expect(await t.redis.zcard(t.pool.keys.hosts)).toBe(0);
  });
});
