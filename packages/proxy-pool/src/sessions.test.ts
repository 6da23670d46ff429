import { afterEach, describe, expect, it } from 'vitest';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('sticky sessions (includes/lease-one.lua)', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  const sticky = (session: string, host = 'shop.test') => interactive(host, { session });

  it('sticky sessions keep their proxy and move when it is quarantined', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000 } });
    for (const id of ['a', 'b', 'c']) await t.pool.upsert(proxySpec(id));
    const first = await leaseOk(t.pool, sticky('cart-1'));
    // other traffic makes the session's proxy the busiest; the session stays anyway
    const others = await Promise.all([1, 2, 3, 4].map(() => leaseOk(t.pool, interactive('shop.test'))));
    for (let i = 0; i < 5; i++) {
      const l = await leaseOk(t.pool, sticky('cart-1'));
      expect(l.proxyId).toBe(first.proxyId);
      await t.pool.release(l, { outcome: 'ok' });
    }
    await t.pool.release(first, { outcome: 'proxy_fault' });
    const moved = await leaseOk(t.pool, sticky('cart-1'));
    expect(moved.proxyId).not.toBe(first.proxyId);
    // and it sticks to the new one, even after the old one is back
    await t.pool.reportProbe(first.proxyId, true);
    expect((await leaseOk(t.pool, sticky('cart-1'))).proxyId).toBe(moved.proxyId);
    for (const l of others) await t.pool.release(l, { outcome: 'ok' });
  });

  it('a session moves when its proxy cools or is banned for the host, or is full', async () => {
    t = await openTestPool({ ban: { afterBlocks: 1 } });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 1 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 1 }));
    await t.pool.upsert(proxySpec('c', { maxConcurrency: 5 }));
    const s1 = await leaseOk(t.pool, sticky('s'));
    expect(s1.proxyId).toBe('a');
    // a is full while s1 is in flight: the session moves on
    const s2 = await leaseOk(t.pool, sticky('s'));
    expect(s2.proxyId).not.toBe('a');
    await t.pool.release(s1, { outcome: 'ok' });
    await t.pool.release(s2, { outcome: 'rate_limited', retryAfterMs: 10_000 });
    const s3 = await leaseOk(t.pool, sticky('s'));
    expect([s2.proxyId]).not.toContain(s3.proxyId);
    await t.pool.release(s3, { outcome: 'blocked' });
    const s4 = await leaseOk(t.pool, sticky('s'));
    expect([s2.proxyId, s3.proxyId]).not.toContain(s4.proxyId);
    // the cooldown and the ban are per host: elsewhere the session keeps s4's proxy
    expect((await leaseOk(t.pool, sticky('s', 'other.test'))).proxyId).toBe(s4.proxyId);
  });

  it('a session honours the lease constraints', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('dc', { tags: ['dc'] }));
    await t.pool.upsert(proxySpec('res', { tags: ['res'] }));
    expect((await leaseOk(t.pool, interactive('x.test', { session: 's', tags: ['res'] }))).proxyId).toBe(
      'res',
    );
    expect((await leaseOk(t.pool, interactive('x.test', { session: 's', tags: ['dc'] }))).proxyId).toBe('dc');
  });

  it('an idle session is forgotten after its TTL; use refreshes it', async () => {
    t = await openTestPool({ sessionTtlMs: 10_000 });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.upsert(proxySpec('b'));
    const l = await leaseOk(t.pool, sticky('s'));
    await t.pool.release(l, { outcome: 'ok' });
    t.clock.advance(9000);
    await t.pool.release(await leaseOk(t.pool, sticky('s')), { outcome: 'ok' });
    t.clock.advance(9000);
    await t.pool.reclaimExpired();
    expect(await t.redis.hget(t.pool.keys.sessions, 's')).toBe(l.proxyId);
    t.clock.advance(1000);
    await t.pool.reclaimExpired();
    expect(await t.redis.hget(t.pool.keys.sessions, 's')).toBeNull();
  });
});
