import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPoolError } from './errors.ts';
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

/** Where a proxy's in-flight count lives (lua/includes/availability.lua): in its availability
 * sets' scores while in service, in its hash's `held` while out of service. */
describe('availability sets: in-flight counts packed into the scores', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  const scores = (set: string) => proxyScores(t.redis, t.pool.keys.base + set);
  const held = (id: string) => t.redis.hget(t.pool.keys.proxy(id), 'held');

  it('every set of a proxy carries its counts; a full proxy stays in them, sorted last, and is never leased', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 2, tags: ['dc'], country: 'DE' }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 3, tags: ['dc'] }));
    expect(await scores('a')).toEqual({ a: availabilityScore(0, 2), b: availabilityScore(0, 3) });
    expect(await scores('a:t:dc')).toEqual(await scores('a'));
    expect(await scores('a:c:DE')).toEqual({ a: availabilityScore(0, 2) });

    const leases: Lease[] = [];
    for (let i = 0; i < 5; i++) leases.push(await leaseOk(t.pool, interactive('x.test')));
    // both full: still members, with the full score, last in order (a: 2 of 2, b: 3 of 3)
    expect(await scores('a')).toEqual({ a: availabilityScore(2, 2), b: availabilityScore(3, 3) });
    expect(await scores('a:c:DE')).toEqual({ a: availabilityScore(2, 2) });
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true, reason: 'capacity' });
    expect(await t.pool.lease(interactive('x.test', { country: 'DE' }))).toMatchObject({ exhausted: true });

    await t.pool.release(
      leases.find((l) => l.proxyId === 'b')!,
      { outcome: 'ok' },
    );
    expect(await scores('a:t:dc')).toEqual({ a: availabilityScore(2, 2), b: availabilityScore(2, 3) });
    expect((await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] }))).proxyId).toBe('b');
    expect((await t.pool.list()).map((p) => [p.id, p.inFlight])).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
  });

  it('out of service the count moves to `held`, and back into the scores when the proxy returns', async () => {
    t = await openTestPool({ quarantine: { baseMs: 60_000 } });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    const [l1, l2, l3] = [
      await leaseOk(t.pool, interactive('x.test')),
      await leaseOk(t.pool, interactive('x.test')),
      await leaseOk(t.pool, interactive('x.test')),
    ] as [Lease, Lease, Lease];

    expect(await t.pool.drain('a')).toBe(3);
    expect(await scores('a')).toEqual({});
    expect(await held('a')).toBe('3');
    await t.pool.release(l1, { outcome: 'ok' }); // while draining: from `held`
    expect(await held('a')).toBe('2');
    expect((await t.pool.list())[0]).toMatchObject({ state: 'draining', inFlight: 2 });
    expect(await t.pool.undrain('a')).toBe(2);
    expect(await scores('a')).toEqual({ a: availabilityScore(2, 4) });
    expect(await held('a')).toBe('0');

    // quarantined by a proxy fault: the fault's own lease ends, the other stays counted
    await t.pool.release(l2, { outcome: 'proxy_fault' });
    expect(await scores('a')).toEqual({});
    expect(await held('a')).toBe('1');
    expect((await t.pool.probeDue()).map((d) => d.id)).toEqual([]);
    t.clock.advance(60_000);
    expect((await t.pool.probeDue()).map((d) => d.id)).toEqual(['a']);
    expect(await t.pool.reportProbe('a', true)).toEqual({ status: 'readmitted' });
    expect(await scores('a')).toEqual({ a: availabilityScore(1, 4) });
    await t.pool.release(l3, { outcome: 'ok' });
    expect(await scores('a')).toEqual({ a: availabilityScore(0, 4) });
  });

  it('an update moves the count to the new sets and max; a removal leaves nothing of the proxy behind', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4, tags: ['old'] }));
    await leaseOk(t.pool, interactive('x.test'));
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 8, tags: ['new'], country: 'FR' }));
    expect(await scores('a')).toEqual({ a: availabilityScore(1, 8) });
    expect(await scores('a:t:old')).toEqual({});
    expect(await scores('a:t:new')).toEqual({ a: availabilityScore(1, 8) });
    expect(await scores('a:c:FR')).toEqual({ a: availabilityScore(1, 8) });

    await t.pool.remove('a');
    const k = t.pool.keys;
    expect(await scores('a:t:new')).toEqual({});
    for (const column of [k.urls, k.zks, k.born]) expect(await t.redis.hexists(column, 'a')).toBe(0);
    expect(await t.redis.exists(k.proxy('a'))).toBe(0);
  });

  it('maxConcurrency is bounded so the counts fit in a score', async () => {
    t = await openTestPool();
    await expect(t.pool.upsert(proxySpec('a', { maxConcurrency: 10_001 }))).rejects.toThrow(ProxyPoolError);
    expect(await t.pool.upsert(proxySpec('a', { maxConcurrency: 10_000 }))).toBe('created');
    expect(await scores('a')).toEqual({ a: availabilityScore(0, 10_000) });
  });
});

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

describe('consecutive faults and the `faulty` set', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('an ok release in a batch resets the count of a re-admitted proxy, and only of that one', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000 } });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4 }));
    // one lease on each (the least-utilised proxy first), both ending in a proxy fault
    const first = [
      await leaseOk(t.pool, interactive('x.test')),
      await leaseOk(t.pool, interactive('x.test')),
    ];
    expect(first.map((l) => l.proxyId).sort()).toEqual(['a', 'b']);
    for (const l of first) await t.pool.release(l, { outcome: 'proxy_fault' });
    t.clock.advance(1000);
    expect((await t.pool.probeDue()).map((d) => d.id).sort()).toEqual(['a', 'b']);
    await t.pool.reportProbe('a', true);
    await t.pool.reportProbe('b', true);
    expect(await t.redis.smembers(t.pool.keys.faulty)).toHaveLength(2);

    // four leases on the two proxies, released in one call: a's end ok, b's with an upstream fault
    const leases = await Promise.all([1, 2, 3, 4].map(() => leaseOk(t.pool, interactive('x.test'))));
    const results = await Promise.all(
      leases.map((l) => t.pool.release(l, { outcome: l.proxyId === 'a' ? 'ok' : 'upstream_fault' })),
    );
    expect(results).toEqual(['released', 'released', 'released', 'released']);
    expect((await t.pool.list()).map((p) => [p.id, p.consecutiveFaults])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(await t.redis.smembers(t.pool.keys.faulty)).toEqual(['b']);
  });
});

describe('the availability sets and column hashes of a small pool', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('are kept in the hash-table encoding by a placeholder that is never leased, listed or counted', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1, tags: ['dc'], country: 'DE' }));
    const k = t.pool.keys;
    const sets = [k.available, `${k.base}a:t:dc`, `${k.base}a:c:DE`];
    // one proxy: without the placeholder every one of these would be a listpack (O(n) lookups)
    for (const key of sets) expect(await t.redis.object('ENCODING', key)).toBe('skiplist');
    for (const key of [k.urls, k.zks, k.born])
      expect(await t.redis.object('ENCODING', key)).toBe('hashtable');
    // and it stays so when the tags change, after a removal and after a restart's reload
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1, tags: ['new'] }));
    expect(await t.redis.object('ENCODING', `${k.base}a:t:new`)).toBe('skiplist');
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 1, tags: ['new'] }));
    await t.pool.remove('b');
    // a restart loads each key from its dump, choosing the encoding by the same limits
    const reloaded = async (key: string) => {
      const copy = `${k.base}reloaded`;
      await t.redis.restore(copy, 0, await t.redis.dumpBuffer(key), 'REPLACE');
      const encoding = await t.redis.object('ENCODING', copy);
      await t.redis.del(copy);
      return encoding;
    };
    for (const key of [k.available, `${k.base}a:t:new`]) expect(await reloaded(key)).toBe('skiplist');
    for (const key of [k.urls, k.zks, k.born]) expect(await reloaded(key)).toBe('hashtable');

    // the one real slot is leased, then nothing: the placeholder is not a proxy
    expect((await leaseOk(t.pool, interactive('x.test', { tags: ['new'] }))).proxyId).toBe('a');
    const none = { exhausted: true, reason: 'capacity' };
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject(none);
    // leases of one tick go as one lease-many call, which reads the front of the sets its own way
    const batch = await Promise.all(
      [interactive('x.test'), interactive('y.test', { tags: ['new'] })].map((r) => t.pool.lease(r)),
    );
    expect(batch).toEqual([expect.objectContaining(none), expect.objectContaining(none)]);
    expect((await t.pool.list()).map((p) => p.id)).toEqual(['a']);
    expect(await t.pool.counts()).toMatchObject({ inFlight: 1, capacity: 1 });
    await t.pool.remove('a');
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject(none);
    expect(await t.pool.list()).toEqual([]);
  });
});

describe("a host's cooldown, ban and score keys", () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('are kept in the hash-table encoding from their first entry, and list and lease never see the placeholder', async () => {
    t = await openTestPool({ ban: { afterBlocks: 1 } });
    for (const id of ['a', 'b', 'c']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 1 }));
    const k = t.pool.keys;
    const host = 'x.test';
    await t.pool.release(await leaseOk(t.pool, interactive(host)), {
      outcome: 'rate_limited',
      retryAfterMs: 5000,
    });
    expect(await t.redis.object('ENCODING', k.excluded(host))).toBe('skiplist');
    expect(await t.redis.object('ENCODING', k.hostScores(host))).toBe('hashtable');
    await t.pool.release(await leaseOk(t.pool, interactive(host)), { outcome: 'blocked' });
    expect(await t.redis.object('ENCODING', k.banned(host))).toBe('skiplist');

    // a cools and b is banned for the host (a ban is listed apart): c is what is left, and nothing after it
    expect((await leaseOk(t.pool, interactive(host))).proxyId).toBe('c');
    expect(await t.pool.lease(interactive(host))).toMatchObject({ exhausted: true, reason: 'cooling' });
    const list = await t.pool.list();
    expect(list.map((p) => [p.id, p.state, p.cooling.length, p.banned.length])).toEqual([
      ['a', 'cooling', 1, 0],
      ['b', 'available', 0, 1],
      ['c', 'available', 0, 0],
    ]);
    expect(await t.pool.counts()).toMatchObject({ bannedPairs: 1, proxiesWithBans: 1 });
    // when they run out, the host's keys go, placeholder and all
    t.clock.advance(3_600_001);
    await t.pool.reclaimExpired();
    for (const key of [k.excluded(host), k.banned(host), k.hostScores(host)])
      expect(await t.redis.exists(key)).toBe(0);
  });
});

describe('the leases set', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('is kept in the hash-table encoding by its placeholder, which no count or expiry ever sees', async () => {
    t = await openTestPool({ leaseTtlMs: 1000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 10 }));
    const lone = await leaseOk(t.pool, interactive('x.test'));
    expect(await t.redis.object('ENCODING', t.pool.keys.leases)).toBe('skiplist');
    await Promise.all(Array.from({ length: 5 }, () => leaseOk(t.pool, interactive('x.test'))));
    expect(await t.redis.zcard(t.pool.keys.leases)).toBe(7); // six leases and the placeholder
    expect((await t.pool.counts()).inFlight).toBe(6);
    expect(await t.pool.release(lone, { outcome: 'ok' })).toBe('released');
    expect((await t.pool.counts()).inFlight).toBe(5);

    t.clock.advance(1000);
    expect(await t.pool.reclaimExpired()).toBe(5);
    expect((await t.pool.counts()).inFlight).toBe(0);
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0, outcomes: { expired: 5 } });
    expect(await t.redis.zcard(t.pool.keys.leases)).toBe(1);
    // a new lease finds the set as it should be
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('a');
  });
});
