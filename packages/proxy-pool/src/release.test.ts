import { afterEach, describe, expect, it } from 'vitest';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('release-many-5.lua: outcomes and their penalties', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  // The cooldown on its own; pacing (which also holds a pair after a 429) has pacing.test.ts.
  it('a 429 cools down only that (proxy, host) pair; the same proxy keeps serving other hosts', async () => {
    t = await openTestPool({ pacing: { startRps: 0 } });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.upsert(proxySpec('b'));
    const first = await leaseOk(t.pool, interactive('api.one.test'));
    expect(first.proxyId).toBe('a');
    expect(await t.pool.release(first, { outcome: 'rate_limited', retryAfterMs: 30_000 })).toBe('released');

    for (let i = 0; i < 3; i++) {
      const one = await leaseOk(t.pool, interactive('api.one.test'));
      expect(one.proxyId).toBe('b');
      await t.pool.release(one, { outcome: 'ok' });
    }
    const two = await leaseOk(t.pool, interactive('api.two.test'));
    expect(two.proxyId).toBe('a');
    await t.pool.release(two, { outcome: 'ok' });

    const [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'cooling', consecutiveFaults: 0, banned: [] });
    expect(a?.cooling).toEqual([{ host: 'api.one.test', until: t.clock.now() + 30_000 }]);
    t.clock.advance(30_000);
    expect((await leaseOk(t.pool, interactive('api.one.test'))).proxyId).toBe('a');
    expect((await t.pool.list())[0]?.state).toBe('available');
  });

  it("without Retry-After the cooldown backs off exponentially over the pair's streak, capped", async () => {
    t = await openTestPool({
      cooldown: { baseMs: 1000, maxMs: 5000, resetAfterMs: 60_000 },
      pacing: { startRps: 0 },
    });
    await t.pool.upsert(proxySpec('a'));
    const cooldowns: number[] = [];
    for (let i = 0; i < 5; i++) {
      await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'rate_limited' });
      const until = (await t.pool.list())[0]?.cooling[0]?.until ?? 0;
      cooldowns.push(until - t.clock.now());
      t.clock.advance(until - t.clock.now());
    }
    expect(cooldowns).toEqual([1000, 2000, 4000, 5000, 5000]);
    // a quiet minute resets the streak
    t.clock.advance(60_001);
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'rate_limited' });
    expect(((await t.pool.list())[0]?.cooling[0]?.until ?? 0) - t.clock.now()).toBe(1000);
  });

  it('429s from requests already in flight during a cooldown do not grow it', async () => {
    t = await openTestPool({ cooldown: { baseMs: 1000 } });
    await t.pool.upsert(proxySpec('a'));
    const inFlight = [1, 2, 3].map(() => leaseOk(t.pool, interactive('x.test')));
    const leases = await Promise.all(inFlight);
    for (const l of leases) await t.pool.release(l, { outcome: 'rate_limited' });
    const [a] = await t.pool.list();
    expect(a?.cooling).toEqual([{ host: 'x.test', until: t.clock.now() + 1000 }]);
    expect(a?.outcomes.rate_limited).toBe(3);
  });

  it('jitter shortens backoffs by up to its share', async () => {
    t = await openTestPool({ jitter: 0.2, random: () => 0.99, cooldown: { baseMs: 10_000 } });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'rate_limited' });
    const until = (await t.pool.list())[0]?.cooling[0]?.until ?? 0;
    expect(until - t.clock.now()).toBe(Math.floor(10_000 * (1 - 0.2 * 0.99)));
  });

  it('blocks score the (proxy, host) pair and ban it after N within the window', async () => {
    t = await openTestPool({ ban: { afterBlocks: 3, windowMs: 60_000, durationMs: 3_600_000 } });
    await t.pool.upsert(proxySpec('a'));
    const block = async () =>
      t.pool.release(await leaseOk(t.pool, interactive('shop.test')), { outcome: 'blocked' });
    await block();
    await block();
    let [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', banned: [], cooling: [] });
    // outside the window the count starts over
    t.clock.advance(60_001);
    await block();
    await block();
    expect((await t.pool.list())[0]?.banned).toEqual([]);
    await block();
    [a] = await t.pool.list();
    expect(a?.banned).toEqual([{ host: 'shop.test', until: t.clock.now() + 3_600_000 }]);
    expect(a?.outcomes.blocked).toBe(5);
    expect(await t.pool.lease(interactive('shop.test'))).toMatchObject({
      exhausted: true,
      reason: 'cooling',
    });
    expect((await leaseOk(t.pool, interactive('other.test'))).proxyId).toBe('a');
    expect(await t.pool.counts()).toMatchObject({ bannedPairs: 1, proxiesWithBans: 1 });
  });

  it('target faults do not penalise the proxy; ok resets the consecutive-fault count', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    for (const outcome of ['upstream_fault', 'client_fault', 'canceled'] as const) {
      for (let i = 0; i < 5; i++)
        await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome });
    }
    let [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', cooling: [], banned: [], consecutiveFaults: 0 });
    expect(a?.outcomes).toMatchObject({ upstream_fault: 5, client_fault: 5, canceled: 5, ok: 0 });

    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
    expect((await t.pool.list())[0]?.consecutiveFaults).toBe(1);
    await t.pool.reportProbe('a', true);
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'ok' });
    [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', consecutiveFaults: 0 });
    expect(a?.outcomes).toMatchObject({ ok: 1, proxy_fault: 1 });
  });

  it('records bytes and outcome counts per proxy', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'ok', bytes: 1500 });
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'ok', bytes: 500.4 });
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), {
      outcome: 'upstream_fault',
      bytes: 20,
    });
    const [a] = await t.pool.list();
    expect(a).toMatchObject({ bytes: 2020, inFlight: 0 });
    expect(a?.outcomes).toEqual({
      ok: 2,
      rate_limited: 0,
      blocked: 0,
      proxy_fault: 0,
      upstream_fault: 1,
      client_fault: 0,
      canceled: 0,
      expired: 0,
    });
  });

  it('a second release of the same lease is stale and changes nothing', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a'));
    const l = await leaseOk(t.pool, interactive('x.test'));
    expect(await t.pool.release(l, { outcome: 'ok', bytes: 10 })).toBe('released');
    expect(await t.pool.release(l, { outcome: 'proxy_fault', bytes: 10 })).toBe('stale');
    expect(await t.pool.release({ ...l, epoch: l.epoch + 1 }, { outcome: 'ok' })).toBe('stale');
    expect((await t.pool.list())[0]).toMatchObject({ state: 'available', bytes: 10, inFlight: 0 });
  });

  it('rejects an unknown outcome without touching the lease', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a'));
    const l = await leaseOk(t.pool, interactive('x.test'));
    // @ts-expect-error an outcome the pool does not know
    await expect(t.pool.release(l, { outcome: 'timeout' })).rejects.toMatchObject({
      code: 'PROXY_POOL_INVALID_REQUEST',
    });
    expect(await t.pool.release(l, { outcome: 'ok' })).toBe('released');
  });
});
