import { afterEach, describe, expect, it } from 'vitest';
import {
  assertLease,
  availabilityScore,
  caughtUpScores,
  interactive,
  leaseOk,
  openTestPool,
  proxyScores,
  proxySpec,
  scriptCalls,
  type TestPool,
} from './test-support.ts';
import type { Lease } from './types.ts';

/** The batched scripts write a proxy's new counts to the all-proxies set only and leave its tag
 * and country sets behind (lua/includes/availability.lua); a constrained lease catches them up
 * before it reads them. */
describe('tag and country sets written behind by the batched scripts', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  const scores = (set: string) => proxyScores(t.redis, t.pool.keys.base + set);
  const behind = async () =>
    (await t.redis.smembers(t.pool.keys.behind)).filter((m) => !m.startsWith('~')).sort();

  it('lag after batched leases and releases, and a constrained lease catches them up and picks by the real counts', async () => {
    // (no release counts sent during the test: only the calls below reach Redis)
    t = await openTestPool({ statsFlushMs: 3_600_000 });
    for (const id of ['a', 'b'])
      await t.pool.upsert(proxySpec(id, { maxConcurrency: 4, tags: ['dc'], country: 'DE' }));
    const calls = scriptCalls(t.redis);
    try {
      // six leases in one call (three on each), one of each given back alone (written in full),
      // then b's other two together
      const leases = (
        await Promise.all(Array.from({ length: 6 }, () => t.pool.lease(interactive('x.test'))))
      ).map(assertLease);
      const [a, b] = ['a', 'b'].map((id) => leases.filter((l) => l.proxyId === id)) as [Lease[], Lease[]];
      expect([a.length, b.length]).toEqual([3, 3]);
      for (const l of [a[0]!, b[0]!]) expect(await t.pool.release(l, { outcome: 'ok' })).toBe('released');
      expect(await Promise.all(b.slice(1).map((l) => t.pool.release(l, { outcome: 'ok' })))).toEqual([
        'released',
        'released',
      ]);
      expect(calls.names).toEqual(['lease-many', 'release-plain', 'release-plain', 'release-many']);
    } finally {
      calls.restore();
    }
    // the all-proxies set is exact (a: 2 in flight, b: 0); the others show both at 2, as the lone
    // releases left them
    expect(await scores('a')).toEqual({ a: availabilityScore(2, 4), b: availabilityScore(0, 4) });
    for (const set of ['a:t:dc', 'a:c:DE'])
      expect(await scores(set)).toEqual({ a: availabilityScore(2, 4), b: availabilityScore(2, 4) });
    expect(await behind()).toEqual(['a', 'b']);
    expect((await t.pool.list()).map((p) => [p.id, p.inFlight])).toEqual([
      ['a', 2],
      ['b', 0],
    ]);

    // by name 'a' would win the tie the stale set shows; by its real count 'b' is the least used
    expect((await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] }))).proxyId).toBe('b');
    for (const set of ['a:t:dc', 'a:c:DE']) expect(await scores(set)).toEqual(await scores('a'));
    expect(await behind()).toEqual([]);
    expect((await leaseOk(t.pool, interactive('x.test', { country: 'DE' }))).proxyId).toBe('b');
  });

  it('a proxy left behind that leaves service or is removed is not put back by the catch-up', async () => {
    t = await openTestPool();
    for (const id of ['a', 'b', 'c']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 4, tags: ['dc'] }));
    // two on each, at least one of them (all but the first of the call) written behind
    const leases = (
      await Promise.all(Array.from({ length: 6 }, () => t.pool.lease(interactive('x.test'))))
    ).map(assertLease);
    expect(await behind()).toEqual(['a', 'b', 'c']);
    expect(await t.pool.drain('b')).toBe(2);
    await t.pool.remove('c');
    const lease = await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] }));
    expect(lease.proxyId).toBe('a');
    expect(await scores('a:t:dc')).toEqual({ a: availabilityScore(3, 4) });
    expect(await scores('a')).toEqual({ a: availabilityScore(3, 4) });
    expect(await behind()).toEqual([]);
    for (const l of [...leases, lease]) await t.pool.release(l, { outcome: 'ok' });
    expect((await t.pool.list()).map((p) => [p.id, p.inFlight])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
  });

  it('no more than 256 proxies are left behind: past that the batched script catches up itself', async () => {
    t = await openTestPool();
    const ids = Array.from({ length: 300 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => t.pool.upsert(proxySpec(id, { maxConcurrency: 4, tags: ['dc'] }))));
    // 300 leases in one tick: ten lease-many calls of at most 32, each on proxies not leased yet
    const leases = (await Promise.all(ids.map(() => t.pool.lease(interactive('x.test'))))).map(assertLease);
    expect(new Set(leases.map((l) => l.proxyId)).size).toBe(300);
    const left = new Set(await behind());
    expect(left.size).toBeGreaterThan(0);
    expect(left.size).toBeLessThanOrEqual(256);
    const dc = await scores('a:t:dc');
    for (const id of ids)
      expect(dc[id], id).toBe(left.has(id) ? availabilityScore(0, 4) : availabilityScore(1, 4));
    expect(await caughtUpScores(t.redis, t.pool.keys, t.pool.keys.base + 'a:t:dc')).toEqual(
      await scores('a'),
    );
  });

  it('the set naming them is kept in the hash-table encoding, even with numeric proxy ids', async () => {
    t = await openTestPool();
    for (const id of ['1', '2']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 4, tags: ['dc'] }));
    await Promise.all(Array.from({ length: 4 }, () => t.pool.lease(interactive('x.test'))));
    expect(await behind()).toEqual(['1', '2']);
    // (an intset, or a listpack from Redis 7.2 on, would be searched or rewritten on each add)
    expect(await t.redis.object('ENCODING', t.pool.keys.behind)).toBe('hashtable');
  });

  it('a pool without tags or countries has no proxies left behind', async () => {
    t = await openTestPool();
    for (const id of ['a', 'b']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 4 }));
    await Promise.all([t.pool.lease(interactive('x.test')), t.pool.lease(interactive('x.test'))]);
    expect(await t.redis.exists(t.pool.keys.behind)).toBe(0);
  });

  it('the pool counts its proxies with a tag or country through updates and removals; while one has, every proxy a batch touches is named', async () => {
    t = await openTestPool();
    const tagged = () => t.redis.hget(t.pool.keys.meta, 'tagged');
    const leaseBatch = async (n: number) =>
      (await Promise.all(Array.from({ length: n }, () => t.pool.lease(interactive('x.test'))))).map(
        assertLease,
      );
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    expect(await tagged()).toBe('0');
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4, tags: ['dc'] }));
    expect(await tagged()).toBe('1');
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4, tags: ['dc', 'eu'] }));
    expect(await tagged()).toBe('1');
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4 }));
    expect(await tagged()).toBe('0');
    const first = await leaseBatch(4);
    expect(await t.redis.exists(t.pool.keys.behind)).toBe(0);

    // a gets a country: from now on the batches name both, and the catch-up skips b (no other set)
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4, country: 'DE' }));
    expect(await tagged()).toBe('1');
    const second = await leaseBatch(2);
    expect(await behind()).toEqual(['a', 'b']);
    expect(await scores('a')).toEqual({ a: availabilityScore(3, 4), b: availabilityScore(3, 4) });
    expect(await scores('a:c:DE')).toEqual({ a: availabilityScore(2, 4) });
    expect((await leaseOk(t.pool, interactive('x.test', { country: 'DE' }))).proxyId).toBe('a');
    expect(await scores('a:c:DE')).toEqual({ a: availabilityScore(4, 4) });
    expect(await behind()).toEqual([]);

    await t.pool.remove('a');
    expect(await tagged()).toBe('0');
    expect(await Promise.all([...first, ...second].map((l) => t.pool.release(l, { outcome: 'ok' })))).toEqual(
      [...first, ...second].map((l) => (l.proxyId === 'a' ? 'stale' : 'released')),
    );
    expect(await behind()).toEqual([]);
  });

  it('a pool written before the count existed is taken as tagged, and counted at its next upsert or removal', async () => {
    t = await openTestPool();
    for (const id of ['a', 'b']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 4, tags: ['dc'] }));
    await t.redis.hdel(t.pool.keys.meta, 'tagged');
    // three leases in one call: two on a, one on b, written behind in the tag set
    const leases = (
      await Promise.all(Array.from({ length: 3 }, () => t.pool.lease(interactive('x.test'))))
    ).map(assertLease);
    expect(leases.map((l) => l.proxyId).sort()).toEqual(['a', 'a', 'b']);
    expect(await behind()).toEqual(['a', 'b']);
    // by the stale tag set 'a' would win the tie; by the real counts b is the least used
    expect((await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] }))).proxyId).toBe('b');
    expect(await scores('a:t:dc')).toEqual(await scores('a'));

    await t.pool.upsert(proxySpec('c', { maxConcurrency: 4 }));
    expect(await t.redis.hget(t.pool.keys.meta, 'tagged')).toBe('2');
    await t.redis.hdel(t.pool.keys.meta, 'tagged');
    await t.pool.remove('b');
    expect(await t.redis.hget(t.pool.keys.meta, 'tagged')).toBe('1');
  });
});
