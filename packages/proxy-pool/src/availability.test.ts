import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPoolError } from './errors.ts';
import {
  availabilityScore,
  interactive,
  leaseOk,
  openTestPool,
  proxyScores,
  proxySpec,
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
    for (const column of [k.zks, k.born]) expect(await t.redis.hexists(column, 'a')).toBe(0);
    expect(await t.redis.exists(k.proxy('a'))).toBe(0);
  });

  it('maxConcurrency is bounded so the counts fit in a score', async () => {
    t = await openTestPool();
    await expect(t.pool.upsert(proxySpec('a', { maxConcurrency: 10_001 }))).rejects.toThrow(ProxyPoolError);
    expect(await t.pool.upsert(proxySpec('a', { maxConcurrency: 10_000 }))).toBe('created');
    expect(await scores('a')).toEqual({ a: availabilityScore(0, 10_000) });
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
