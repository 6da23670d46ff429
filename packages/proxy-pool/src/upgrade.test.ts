import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPool } from './proxy-pool.ts';
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

/** The member or field the previous version kept in most of the pool's keys. */
const OLD = `~${'placeholder'.repeat(8)}`;

/** Every key of the pool and what it holds, by type. */
async function snapshot(redis: Redis, base: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await redis.keys(`${base}*`)).sort()) {
    const type = await redis.type(key);
    if (type === 'zset') out[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'hash') out[key] = await redis.hgetall(key);
    else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
    else out[key] = type;
  }
  return out;
}

describe('upgrade-3.lua (a pool written by the previous version)', () => {
  let t: TestPool;
  let other: Redis | undefined;
  afterEach(async () => {
    other?.disconnect();
    other = undefined;
    await t.close();
  });

  /** A second process on the same pool, started after the first one stopped. */
  const restart = () => {
    other = new Redis(t.redis.options);
    const now = t.clock.now;
    return new ProxyPool({ redis: other, prefix: t.prefix, now, leaseTtlMs: 10_000, interactiveReserve: 0 });
  };

  it('keeps working after a restart: no placeholder is ever leased, listed or counted, and tag sets are exact again', async () => {
    t = await openTestPool({ leaseTtlMs: 10_000, interactiveReserve: 0 });
    const k = t.pool.keys;
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4, tags: ['dc'], country: 'DE' }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4, tags: ['dc'] }));
    await t.pool.upsert(proxySpec('c', { maxConcurrency: 1 }));
    const held: Lease[] = [];
    for (let i = 0; i < 3; i++) held.push(await leaseOk(t.pool, interactive('x.test', { tags: ['dc'] })));
    expect(held.map((l) => l.proxyId)).toEqual(['a', 'b', 'a']);
    // host data (b cools for cool.test) and a session (on c), as the previous version wrote them too
    await t.pool.release(await leaseOk(t.pool, interactive('cool.test', { tags: ['dc'] })), {
      outcome: 'rate_limited',
      retryAfterMs: 5000,
    });
    held.push(await leaseOk(t.pool, interactive('x.test', { session: 's1' })));

    // the previous version's extra state: the placeholder everywhere, a's tag and country scores
    // left behind (0 in flight where the all-proxies set says 2), a:behind naming it, `tagged`
    const b = k.base;
    for (const key of [k.available, `${b}a:t:dc`, `${b}a:c:DE`, `${b}a:t:gone`, k.leases, k.timers])
      await t.redis.zadd(key, '+inf', OLD);
    for (const key of [k.excluded('cool.test'), k.banned('cool.test')]) await t.redis.zadd(key, '+inf', OLD);
    for (const key of [k.sessions, k.hostScores('cool.test'), k.zks, k.born, `${b}url`])
      await t.redis.hset(key, OLD, '');
    await t.redis.hset(`${b}url`, 'a', 'http://user:secret-a@127.0.0.1:3128');
    const stale = availabilityScore(0, 4);
    await t.redis.zadd(`${b}a:t:dc`, stale, 'a');
    await t.redis.zadd(`${b}a:c:DE`, stale, 'a');
    await t.redis.sadd(`${b}a:behind`, OLD, 'a');
    await t.redis.hset(k.meta, 'tagged', '1');

    const pool = restart();
    expect((await pool.list()).map((p) => [p.id, p.inFlight])).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ]);
    expect(await pool.counts()).toMatchObject({ inFlight: 4, capacity: 9 });
    // nothing of the previous layout is left
    const keys = await snapshot(t.redis, b);
    expect(JSON.stringify(keys)).not.toContain(OLD);
    for (const gone of [`${b}a:behind`, `${b}url`, `${b}a:t:gone`]) expect(keys).not.toHaveProperty(gone);
    expect(await t.redis.hexists(k.meta, 'tagged')).toBe(0);
    for (const set of ['a:t:dc', 'a:c:DE'])
      expect(await proxyScores(t.redis, b + set)).toMatchObject({ a: availabilityScore(2, 4) });

    // by the real counts b is the least used dc proxy (by the stale ones it would have been a)
    const next = await leaseOk(pool, interactive('x.test', { tags: ['dc'] }));
    expect(next.proxyId).toBe('b');
    held.push(next);
    // the rest of the capacity, then nothing: a placeholder is never leased
    for (let i = 0; i < 4; i++) held.push(await leaseOk(pool, interactive('x.test')));
    expect(await pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true, reason: 'capacity' });
    expect(
      await Promise.all(
        [interactive('x.test'), interactive('y.test', { tags: ['dc'] })].map((r) => pool.lease(r)),
      ),
    ).toEqual([
      expect.objectContaining({ exhausted: true, reason: 'capacity' }),
      expect.objectContaining({ exhausted: true, reason: 'capacity' }),
    ]);
    expect(new Set(held.map((l) => l.proxyId))).toEqual(new Set(['a', 'b', 'c']));
    expect((await pool.list()).map((p) => [p.id, p.cooling.map((c) => c.host)])).toEqual([
      ['a', []],
      ['b', ['cool.test']],
      ['c', []],
    ]);

    // every lease expires and gives its slot back; none is left counted
    t.clock.advance(10_000);
    expect(await pool.reclaimExpired()).toBe(held.length);
    expect(await pool.counts()).toMatchObject({ inFlight: 0, capacity: 9 });
    expect((await pool.list()).map((p) => p.inFlight)).toEqual([0, 0, 0]);
  });

  it('changes nothing on a pool already in this layout', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4, tags: ['dc'], country: 'DE' }));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'rate_limited' });
    await leaseOk(t.pool, interactive('y.test', { session: 's1' }));
    const before = await snapshot(t.redis, t.pool.keys.base);
    const pool = restart();
    expect(await pool.counts()).toMatchObject({ inFlight: 1 });
    expect(await snapshot(t.redis, t.pool.keys.base)).toEqual(before);
  });
});
