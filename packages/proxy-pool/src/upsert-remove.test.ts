import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPoolError } from './errors.ts';
import { interactive, leaseOk, openTestPool, proxySpec, scriptCalls, type TestPool } from './test-support.ts';
import type { Lease } from './types.ts';

describe('upsert-2.lua and remove-5.lua', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('upsert adds a proxy in service, and updates it in place keeping leases and counters', async () => {
    t = await openTestPool();
    expect(await t.pool.upsert(proxySpec('a', { maxConcurrency: 2, tags: ['dc'], country: 'de' }))).toBe(
      'created',
    );
    const lease = await leaseOk(t.pool, interactive('x.test'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), {
      outcome: 'rate_limited',
      bytes: 10,
    });

    expect(await t.pool.upsert(proxySpec('a', { maxConcurrency: 5, tags: ['res'] }))).toBe('updated');
    const [a] = await t.pool.list();
    expect(a).toMatchObject({ id: 'a', maxConcurrency: 5, tags: ['res'], inFlight: 1, bytes: 10 });
    expect(a?.country).toBeUndefined();
    expect(a?.outcomes.rate_limited).toBe(1);
    expect((await t.pool.counts()).capacity).toBe(5);
    // the new tag set is the one leases see
    expect((await t.pool.lease(interactive('y.test', { tags: ['dc'] }))).exhausted).toBe(true);
    expect((await leaseOk(t.pool, interactive('y.test', { tags: ['res'] }))).proxyId).toBe('a');
    expect(await t.pool.release(lease, { outcome: 'ok' })).toBe('released');
  });

  it('lowering maxConcurrency below the in-flight count stops new leases until some finish', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 3 }));
    const leases = [
      await leaseOk(t.pool, interactive('x.test')),
      await leaseOk(t.pool, interactive('x.test')),
    ];
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true, reason: 'capacity' });
    await t.pool.release(leases[0]!, { outcome: 'ok' });
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true });
    await t.pool.release(leases[1]!, { outcome: 'ok' });
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('a');
  });

  it('a proxy removed while leased: its late release changes nothing, even after the id is re-added', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    const old = await leaseOk(t.pool, interactive('x.test'));
    expect(await t.pool.remove('a')).toBe(true);
    expect(await t.pool.remove('a')).toBe(false);
    expect(await t.pool.list()).toEqual([]);
    expect((await t.pool.counts()).capacity).toBe(0);

    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    const fresh = await leaseOk(t.pool, interactive('x.test'));
    expect(fresh.epoch).toBeGreaterThan(old.epoch);
    await t.pool.release(old, { outcome: 'proxy_fault' });
    const [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', inFlight: 1, consecutiveFaults: 0 });
    expect(await t.pool.release(fresh, { outcome: 'ok' })).toBe('released');
  });

  it("a lease carries its proxy's price, alone or in a batch, and an upserted price from the proxy's next lease", async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { pricePerGbUsd: 0.5, tags: ['dc'] }));
    await t.pool.upsert(proxySpec('b', { pricePerGbUsd: 7.25, tags: ['res'] }));
    const calls = scriptCalls(t.redis);
    let lone: Lease;
    let batch: Lease[];
    try {
      lone = await leaseOk(t.pool, interactive('x.test', { tags: ['res'] }));
      batch = await Promise.all(
        [{ tags: ['dc'] }, { tags: ['res'] }, {}].map((c) => leaseOk(t.pool, interactive('x.test', c))),
      );
      expect(calls.names).toEqual(['lease-many', 'lease-many']);
    } finally {
      calls.restore();
    }
    expect([lone.proxyId, lone.pricePerGbUsd]).toEqual(['b', 7.25]);
    expect(batch.map((l) => [l.proxyId, l.pricePerGbUsd])).toEqual([
      ['a', 0.5],
      ['b', 7.25],
      ['a', 0.5],
    ]);
    expect(await t.pool.upsert(proxySpec('b', { pricePerGbUsd: 9, tags: ['res'] }))).toBe('updated');
    expect(lone.pricePerGbUsd).toBe(7.25);
    expect((await leaseOk(t.pool, interactive('x.test', { tags: ['res'] }))).pricePerGbUsd).toBe(9);
  });

  it("removing a proxy ends its leases (stale on release and renew) and no other proxy's", async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('ba', { maxConcurrency: 2 }));
    const leases = await Promise.all([1, 2, 3, 4].map(() => leaseOk(t.pool, interactive('x.test'))));
    const onA = leases.filter((l) => l.proxyId === 'a');
    const onBa = leases.filter((l) => l.proxyId === 'ba');
    expect([onA.length, onBa.length]).toEqual([2, 2]);
    expect(await t.pool.remove('a')).toBe(true);
    expect(await t.redis.zcard(t.pool.keys.leases)).toBe(2);
    expect(await t.pool.renew(onA[0]!)).toBe('stale');
    // one without a penalty, one with
    expect(await t.pool.release(onA[0]!, { outcome: 'ok' })).toBe('stale');
    expect(await t.pool.release(onA[1]!, { outcome: 'proxy_fault' })).toBe('stale');
    expect((await t.pool.list()).map((p) => [p.id, p.inFlight, p.state])).toEqual([['ba', 2, 'available']]);
    expect(await Promise.all(onBa.map((l) => t.pool.release(l, { outcome: 'ok' })))).toEqual([
      'released',
      'released',
    ]);
    expect((await t.pool.list())[0]).toMatchObject({ id: 'ba', inFlight: 0 });
  });

  it('rejects invalid specs with stable codes, and SOCKS proxies with a clear error', async () => {
    t = await openTestPool();
    const code = async (p: Promise<unknown>) => {
      const err: unknown = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProxyPoolError);
      return { code: (err as ProxyPoolError).code, message: (err as ProxyPoolError).message };
    };
    expect((await code(t.pool.upsert(proxySpec('bad id')))).code).toBe('PROXY_POOL_INVALID_PROXY');
    expect((await code(t.pool.upsert(proxySpec('a', { maxConcurrency: 0 })))).code).toBe(
      'PROXY_POOL_INVALID_PROXY',
    );
    expect((await code(t.pool.upsert(proxySpec('a', { country: 'Germany' })))).code).toBe(
      'PROXY_POOL_INVALID_PROXY',
    );
    const socks = await code(t.pool.upsert(proxySpec('a', { url: 'socks5://u:hunter2@10.0.0.1:1080' })));
    expect(socks.code).toBe('PROXY_POOL_UNSUPPORTED_PROTOCOL');
    expect(socks.message).toMatch(/SOCKS/);
    expect(socks.message).not.toContain('hunter2');
    expect(await t.pool.list()).toEqual([]);
  });
});
