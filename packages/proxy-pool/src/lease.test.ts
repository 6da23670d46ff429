import { afterEach, describe, expect, it } from 'vitest';
import type { Lease } from './types.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('lease-many-6.lua: one lease at a time', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('spreads leases over the least-utilised proxies and honours maxConcurrency', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('c', { maxConcurrency: 4 }));
    const leases: Lease[] = [];
    for (let i = 0; i < 8; i++) leases.push(await leaseOk(t.pool, interactive('x.test')));
    const perProxy = (ids: string[]) =>
      Object.fromEntries(['a', 'b', 'c'].map((p) => [p, ids.filter((i) => i === p).length]));
    // the first three go one per proxy; then utilisation (in flight / max) decides
    expect(perProxy(leases.slice(0, 3).map((l) => l.proxyId))).toEqual({ a: 1, b: 1, c: 1 });
    expect(perProxy(leases.map((l) => l.proxyId))).toEqual({ a: 2, b: 2, c: 4 });
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true, reason: 'capacity' });

    await t.pool.release(leases[0]!, { outcome: 'ok' });
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe(leases[0]!.proxyId);
  });

  it('grants increasing fencing epochs and an expiry TTL from now', async () => {
    t = await openTestPool({ leaseTtlMs: 5000 });
    await t.pool.upsert(proxySpec('a'));
    const l1 = await leaseOk(t.pool, interactive('x.test'));
    const l2 = await leaseOk(t.pool, interactive('x.test', { ttlMs: 60_000 }));
    expect(l2.epoch).toBeGreaterThan(l1.epoch);
    expect(l1.expiresAt).toBe(t.clock.now() + 5000);
    expect(l2.expiresAt).toBe(t.clock.now() + 60_000);
    expect(l1.leaseId).not.toBe(l2.leaseId);
    expect(l1.proxyUrl).toBe('http://user:secret-a@127.0.0.1:3128');
  });

  it('tag and country constraints lease only proxies that carry all of them', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('dc-us', { tags: ['dc'], country: 'US' }));
    await t.pool.upsert(proxySpec('res-us', { tags: ['res', 'mobile'], country: 'US' }));
    await t.pool.upsert(proxySpec('res-de', { tags: ['res'], country: 'DE' }));
    for (let i = 0; i < 5; i++) {
      expect((await leaseOk(t.pool, interactive('x.test', { tags: ['res'], country: 'de' }))).proxyId).toBe(
        'res-de',
      );
      expect((await leaseOk(t.pool, interactive('x.test', { tags: ['res', 'mobile'] }))).proxyId).toBe(
        'res-us',
      );
      expect((await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] }))).proxyId).toBe('dc-us');
    }
    expect(await t.pool.lease(interactive('x.test', { tags: ['dc'], country: 'DE' }))).toMatchObject({
      exhausted: true,
      reason: 'capacity',
    });
    expect((await t.pool.lease(interactive('x.test', { tags: ['isp'] }))).exhausted).toBe(true);
  });

  it('batch leases cannot use the interactive reserve', async () => {
    t = await openTestPool({ interactiveReserve: 0.2 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 5 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 5 }));
    const batch: Lease[] = [];
    for (let i = 0; i < 8; i++) batch.push(await leaseOk(t.pool, { lane: 'batch', host: 'x.test' }));
    const refused = await t.pool.lease({ lane: 'batch', host: 'x.test' });
    expect(refused).toMatchObject({ exhausted: true, reason: 'reserve' });
    expect(refused.exhausted && refused.retryAfterMs).toBeGreaterThan(0);
    // the last 20% of capacity is there for interactive traffic
    await leaseOk(t.pool, interactive('x.test'));
    await leaseOk(t.pool, interactive('x.test'));
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true, reason: 'capacity' });
    // interactive leases count against the batch share too
    await t.pool.release(batch[0]!, { outcome: 'ok' });
    expect(await t.pool.lease({ lane: 'batch', host: 'x.test' })).toMatchObject({ reason: 'reserve' });
  });

  it('an empty or fully cooling pool answers exhausted with a retry hint', async () => {
    t = await openTestPool({ exhaustedRetryMs: 250 });
    expect(await t.pool.lease(interactive('x.test'))).toEqual({
      exhausted: true,
      reason: 'capacity',
      retryAfterMs: 250,
    });
    expect(await t.pool.lease({ lane: 'batch', host: 'x.test' })).toEqual({
      exhausted: true,
      reason: 'capacity',
      retryAfterMs: 250,
    });

    await t.pool.upsert(proxySpec('a'));
    await t.pool.upsert(proxySpec('b'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), {
      outcome: 'rate_limited',
      retryAfterMs: 4000,
    });
    t.clock.advance(1000);
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), {
      outcome: 'rate_limited',
      retryAfterMs: 9000,
    });
    // both cool for x.test: come back when the first cooldown ends (3 s from now)
    expect(await t.pool.lease(interactive('x.test'))).toEqual({
      exhausted: true,
      reason: 'cooling',
      retryAfterMs: 3000,
    });
    expect((await leaseOk(t.pool, interactive('other.test'))).proxyId).toMatch(/^[ab]$/);
    t.clock.advance(3000);
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('a');
  });

  it('a pool with every proxy quarantined hints at the earliest quarantine end', async () => {
    t = await openTestPool({ quarantine: { baseMs: 8000 }, exhaustedRetryMs: 100 });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
    expect(await t.pool.lease(interactive('x.test'))).toEqual({
      exhausted: true,
      reason: 'capacity',
      retryAfterMs: 8000,
    });
  });

  it('finds the few eligible proxies of a large pool cooling for one host', async () => {
    // the selector's scan on its own: with pacing, a 429 would also pace the other pairs of x.test
    t = await openTestPool({ pacing: { startRps: 0 } });
    const n = 200;
    for (let i = 0; i < n; i++)
      await t.pool.upsert(proxySpec(`p${String(i).padStart(3, '0')}`, { maxConcurrency: 100 }));
    // every proxy but 40 of them gets a 429 from x.test; idle, they sit at the front of the set
    const cooled = new Set<string>();
    while (cooled.size < n - 40) {
      const l = await leaseOk(t.pool, interactive('x.test'));
      cooled.add(l.proxyId);
      await t.pool.release(l, { outcome: 'rate_limited', retryAfterMs: 60_000 });
    }
    for (let i = 0; i < 100; i++) {
      const l = await leaseOk(t.pool, interactive('x.test'));
      expect(cooled.has(l.proxyId)).toBe(false);
      await t.pool.release(l, { outcome: 'ok' });
    }
  });

  it('a pool larger than the scan limit still finds eligible proxies when most cool for the host', async () => {
    t = await openTestPool({ random: Math.random });
    const n = 1500;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.pool.upsert(proxySpec(`p${String(i).padStart(4, '0')}`, { maxConcurrency: 100 })),
      ),
    );
    const cooled = new Set<string>();
    while (cooled.size < n * 0.8) {
      const l = await leaseOk(t.pool, interactive('x.test'));
      cooled.add(l.proxyId);
      await t.pool.release(l, { outcome: 'rate_limited', retryAfterMs: 60_000 });
    }
    for (let i = 0; i < 50; i++) {
      const l = await leaseOk(t.pool, interactive('x.test'));
      expect(cooled.has(l.proxyId)).toBe(false);
      await t.pool.release(l, { outcome: 'ok' });
    }
  });
});
