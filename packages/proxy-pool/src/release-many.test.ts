import { afterEach, describe, expect, it } from 'vitest';
import {
  assertLease,
  availabilityScore,
  interactive,
  leaseOk,
  openTestPool,
  proxyScores,
  proxySpec,
  scriptCalls,
  type TestPool,
} from './test-support.ts';
import type { Lease, ReleaseReport } from './types.ts';

describe('release-many-5.lua (the releases of one tick in one call)', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('batched releases are fenced one by one: a stale member is rejected without affecting the others', async () => {
    t = await openTestPool({ leaseTtlMs: 10_000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 10 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 10 }));
    const leases = await Promise.all(Array.from({ length: 6 }, () => leaseOk(t.pool, interactive('x.test'))));
    const short = assertLease(await t.pool.lease(interactive('x.test', { ttlMs: 500 })));
    const [l0, l1, l2, l3, l4, l5] = leases as [Lease, Lease, Lease, Lease, Lease, Lease];
    expect(await t.pool.release(l0, { outcome: 'ok' })).toBe('released');
    t.clock.advance(500);
    const calls = scriptCalls(t.redis);
    let results: string[];
    try {
      results = await Promise.all([
        t.pool.release(l0, { outcome: 'ok', bytes: 1000 }), // released before
        t.pool.release(l1, { outcome: 'ok', bytes: 10 }),
        t.pool.release({ ...l2, epoch: l2.epoch + 100 }, { outcome: 'ok', bytes: 1000 }), // wrong epoch
        t.pool.release(l3, { outcome: 'upstream_fault', bytes: 20 }),
        t.pool.release(l1, { outcome: 'ok', bytes: 1000 }), // the same lease twice in one call
        t.pool.release(short, { outcome: 'ok', bytes: 1000 }), // expired
        t.pool.release(l4, { outcome: 'canceled' }),
        t.pool.release(l5, { outcome: 'client_fault', bytes: 5 }),
      ]);
      expect(calls.names).toEqual(['release-many']);
    } finally {
      calls.restore();
    }
    expect(results).toEqual([
      'stale',
      'released',
      'stale',
      'released',
      'stale',
      'stale',
      'released',
      'released',
    ]);
    const list = await t.pool.list();
    const sum = (f: (p: (typeof list)[number]) => number) => list.reduce((s, p) => s + f(p), 0);
    expect(sum((p) => p.inFlight)).toBe(1); // l2, whose real epoch was never released
    expect(sum((p) => p.bytes)).toBe(35);
    expect(sum((p) => p.outcomes.ok)).toBe(2);
    expect(sum((p) => p.outcomes.upstream_fault)).toBe(1);
    expect(sum((p) => p.outcomes.canceled)).toBe(1);
    expect(sum((p) => p.outcomes.client_fault)).toBe(1);
    expect(sum((p) => p.outcomes.expired)).toBe(1);
    expect(await t.pool.release(l2, { outcome: 'ok' })).toBe('released');
    // both proxies are back in the availability set at utilisation 0, nothing in flight
    expect(await proxyScores(t.redis, t.pool.keys.available)).toEqual({
      a: availabilityScore(0, 10),
      b: availabilityScore(0, 10),
    });
  });

  it('with no expired lease in the set, a batch still answers a repeated or earlier-released lease stale', async () => {
    t = await openTestPool({ leaseTtlMs: 10_000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 10 }));
    const [l0, l1, l2] = (await Promise.all([1, 2, 3].map(() => leaseOk(t.pool, interactive('x.test'))))) as [
      Lease,
      Lease,
      Lease,
    ];
    expect(await t.pool.release(l0, { outcome: 'ok' })).toBe('released');
    const calls = scriptCalls(t.redis);
    let results: string[];
    try {
      results = await Promise.all([
        t.pool.release(l1, { outcome: 'ok', bytes: 1 }),
        t.pool.release(l0, { outcome: 'ok', bytes: 1000 }), // released before
        t.pool.release(l1, { outcome: 'ok', bytes: 1000 }), // the same lease twice in one call
        t.pool.release({ ...l2, epoch: l2.epoch + 1 }, { outcome: 'ok', bytes: 1000 }), // wrong epoch
      ]);
      expect(calls.names).toEqual(['release-many']);
    } finally {
      calls.restore();
    }
    expect(results).toEqual(['released', 'stale', 'stale', 'stale']);
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 1, bytes: 1, outcomes: { ok: 2 } });
    expect(await t.pool.release(l2, { outcome: 'ok' })).toBe('released');
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0 });
  });

  it('a batched release of a lease whose proxy was removed and re-added is stale and changes nothing on it', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    const old = await Promise.all([1, 2].map(() => leaseOk(t.pool, interactive('x.test'))));
    await t.pool.remove('a');
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    const fresh = await leaseOk(t.pool, interactive('x.test'));
    expect(
      await Promise.all([...old, fresh].map((l) => t.pool.release(l, { outcome: 'ok', bytes: 7 }))),
    ).toEqual(['stale', 'stale', 'released']);
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0, bytes: 7, outcomes: { ok: 1 } });
  });

  it('a batch mixing outcomes and penalties ends as the same releases one by one would', async () => {
    const setup = async () => {
      const p = await openTestPool({ ban: { afterBlocks: 1 }, quarantine: { baseMs: 60_000 } });
      for (const id of ['a', 'b', 'c']) await p.pool.upsert(proxySpec(id, { maxConcurrency: 4 }));
      const hosts = ['x.test', 'x.test', 'y.test', 'x.test', 'x.test', 'x.test', 'x.test', 'x.test'];
      const leases: Lease[] = [];
      for (const host of hosts) leases.push(await leaseOk(p.pool, interactive(host)));
      expect(leases.map((l) => l.proxyId).join('')).toBe('abcabcab');
      return { p, leases };
    };
    // a's fault then an ok through it, then a fault from a request in flight during its outage
    const releases = (l: Lease[]): [Lease, ReleaseReport][] => [
      [l[0]!, { outcome: 'proxy_fault' }],
      [l[3]!, { outcome: 'ok', bytes: 3 }],
      [l[1]!, { outcome: 'rate_limited', retryAfterMs: 5000 }],
      [l[2]!, { outcome: 'blocked' }],
      [l[4]!, { outcome: 'ok', bytes: 4 }],
      [l[4]!, { outcome: 'ok', bytes: 100 }],
      [l[5]!, { outcome: 'upstream_fault' }],
      [l[6]!, { outcome: 'proxy_fault' }],
      [l[7]!, { outcome: 'canceled' }],
    ];
    const state = async (p: TestPool) => {
      await p.pool.flush();
      return {
        list: await p.pool.list(),
        counts: await p.pool.counts(),
        faulty: await p.redis.smembers(p.pool.keys.faulty),
        available: await proxyScores(p.redis, p.pool.keys.available),
      };
    };
    const one = await setup();
    t = one.p;
    const alone: string[] = [];
    for (const [lease, report] of releases(one.leases)) alone.push(await t.pool.release(lease, report));
    const two = await setup();
    const calls = scriptCalls(two.p.redis);
    let batched: string[];
    try {
      batched = await Promise.all(
        releases(two.leases).map(([lease, report]) => two.p.pool.release(lease, report)),
      );
      expect(calls.names).toEqual(['release-many']);
    } finally {
      calls.restore();
    }
    expect(batched).toEqual(alone);
    expect(alone.filter((r) => r === 'stale')).toHaveLength(1);
    try {
      expect(await state(two.p)).toEqual(await state(t));
      expect((await t.pool.list()).map((p) => [p.id, p.state, p.consecutiveFaults])).toEqual([
        ['a', 'quarantined', 0],
        ['b', 'cooling', 0],
        ['c', 'available', 0],
      ]);
    } finally {
      await two.p.close();
    }
  });

  it("a batched release whose proxy's keys were deleted by hand counts nothing for it, and the others count", async () => {
    t = await openTestPool();
    for (const id of ['a', 'b']) await t.pool.upsert(proxySpec(id, { maxConcurrency: 4 }));
    const leases = await Promise.all([1, 2, 3, 4].map(() => leaseOk(t.pool, interactive('x.test'))));
    // what removal would do, but for the leases set: the proxy's hash and its set entry go
    await t.redis.del(t.pool.keys.proxy('a'));
    await t.redis.zrem(t.pool.keys.available, 'a');
    expect(await Promise.all(leases.map((l) => t.pool.release(l, { outcome: 'ok', bytes: 5 })))).toEqual(
      Array(4).fill('released'),
    );
    await t.pool.flush();
    // no count was sent for 'a' (it would bring its hash back), both of b's were
    expect(await t.redis.exists(t.pool.keys.proxy('a'))).toBe(0);
    expect((await t.pool.list()).map((p) => [p.id, p.inFlight, p.outcomes.ok, p.bytes])).toEqual([
      ['b', 0, 2, 10],
    ]);
  });
});
