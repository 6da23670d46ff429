import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPool } from './proxy-pool.ts';
import {
  interactive,
  leaseOk,
  openTestPool,
  proxyScores,
  proxySpec,
  scriptCalls,
  type TestPool,
} from './test-support.ts';
import type { Lease, LeaseRequest, LeaseResult } from './types.ts';

describe('lease-many-6.lua (the leases of one tick in one call)', () => {
  let t: TestPool;
  let u: TestPool | undefined;
  afterEach(async () => {
    await t.close();
    await u?.close();
    u = undefined;
  });

  it('a lone lease or release still goes alone; concurrent ones share one call', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 20 }));
    const calls = scriptCalls(t.redis);
    try {
      const one = await leaseOk(t.pool, interactive('x.test'));
      await t.pool.release(one, { outcome: 'ok' });
      expect(calls.names).toEqual(['lease-many', 'release-many']);
      calls.names.length = 0;
      const many = await Promise.all(
        Array.from({ length: 10 }, () => leaseOk(t.pool, interactive('x.test'))),
      );
      expect(await Promise.all(many.map((l) => t.pool.release(l, { outcome: 'ok' })))).toEqual(
        Array(10).fill('released'),
      );
      expect(calls.names).toEqual(['lease-many', 'release-many']);
    } finally {
      calls.restore();
    }
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0, outcomes: { ok: 11 } });
  });

  it('N concurrent leases against fewer free slots get exactly the free slots; the rest are exhausted', async () => {
    t = await openTestPool({ interactiveReserve: 0, exhaustedRetryMs: 300 });
    const max = { a: 2, b: 3, c: 1 } as Record<string, number>;
    for (const [id, maxConcurrency] of Object.entries(max))
      await t.pool.upsert(proxySpec(id, { maxConcurrency }));
    const held = await leaseOk(t.pool, interactive('x.test'));
    const results = await Promise.all(Array.from({ length: 20 }, () => t.pool.lease(interactive('x.test'))));
    const leases = results.filter((r): r is Lease => !r.exhausted);
    expect(leases).toHaveLength(5);
    // the free slots went first, in request order; every later request got its own answer
    expect(results.slice(0, 5).every((r) => !r.exhausted)).toBe(true);
    for (const r of results.slice(5))
      expect(r).toEqual({ exhausted: true, reason: 'capacity', retryAfterMs: 300 });
    const perProxy: Record<string, number> = { [held.proxyId]: 1 };
    for (const l of leases) perProxy[l.proxyId] = (perProxy[l.proxyId] ?? 0) + 1;
    expect(perProxy).toEqual(max);
    // epochs are distinct and grow in request order; every lease is its own member in the leases set
    const epochs = leases.map((l) => l.epoch);
    expect(epochs).toEqual([...epochs].sort((x, y) => x - y));
    expect(new Set([held.epoch, ...epochs]).size).toBe(6);
    expect(new Set(leases.map((l) => l.leaseId)).size).toBe(5);
    expect(await t.redis.zcard(t.pool.keys.leases)).toBe(6);
    for (const l of leases) expect(l.expiresAt).toBe(t.clock.now() + 30_000);
    expect((await t.pool.counts()).inFlight).toBe(6);
    for (const p of await t.pool.list()) expect(p.inFlight).toBe(max[p.id]);
  });

  it('concurrent batched leases from several processes never exceed maxConcurrency, nor the reserve', async () => {
    t = await openTestPool({ interactiveReserve: 0.25 });
    const max = { a: 7, b: 3, c: 20, d: 2 } as Record<string, number>; // 32 slots, 8 reserved
    for (const [id, maxConcurrency] of Object.entries(max))
      await t.pool.upsert(proxySpec(id, { maxConcurrency }));
    const clients = Array.from({ length: 3 }, () => new Redis(t.redis.options));
    try {
      const pools = clients.map(
        (redis) => new ProxyPool({ redis, prefix: t.prefix, now: t.clock.now, interactiveReserve: 0.25 }),
      );
      // batch leases first: they may take 24 slots at most
      const batch = await Promise.all(
        Array.from({ length: 90 }, (_, i) => pools[i % 3]!.lease({ lane: 'batch', host: `h${i % 4}.test` })),
      );
      expect(batch.filter((r) => !r.exhausted)).toHaveLength(24);
      expect(batch.filter((r) => r.exhausted && r.reason === 'reserve')).toHaveLength(66);
      const results = await Promise.all(
        Array.from({ length: 90 }, (_, i) =>
          pools[i % 3]!.lease({ lane: 'interactive', host: `h${i % 4}.test` }),
        ),
      );
      expect(results.filter((r) => !r.exhausted)).toHaveLength(8);
      for (const p of await t.pool.list()) expect(p.inFlight).toBe(max[p.id]);

      // leases and releases interleaved, each proxy checked against its maxConcurrency all along
      const all = [...batch, ...results].filter((r): r is Lease => !r.exhausted);
      await Promise.all(all.map((l, i) => pools[i % 3]!.release(l, { outcome: 'ok' })));
      const inFlight = new Map<string, number>();
      let peak = 0;
      let granted = 0;
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const pool = pools[i % 3]!;
          for (let k = 0; k < 5; k++) {
            const r = await pool.lease({
              lane: (i + k) % 5 ? 'interactive' : 'batch',
              host: `h${i % 4}.test`,
            });
            if (r.exhausted) continue;
            granted++;
            const n = (inFlight.get(r.proxyId) ?? 0) + 1;
            inFlight.set(r.proxyId, n);
            expect(n).toBeLessThanOrEqual(max[r.proxyId]!);
            peak = Math.max(
              peak,
              [...inFlight.values()].reduce((s, v) => s + v, 0),
            );
            await new Promise((resolve) => setImmediate(resolve));
            inFlight.set(r.proxyId, (inFlight.get(r.proxyId) ?? 1) - 1);
            expect(await pool.release(r, { outcome: 'ok', bytes: 1 })).toBe('released');
          }
        }),
      );
      expect(peak).toBeLessThanOrEqual(32);
      expect(granted).toBeGreaterThan(32);
      expect((await t.pool.counts()).inFlight).toBe(0);
      // each process counts its own releases; they reach Redis when it flushes
      await Promise.all(pools.map((p) => p.flush()));
      const list = await t.pool.list();
      expect(list.reduce((s, p) => s + p.bytes, 0)).toBe(granted);
      for (const p of list) expect(p.outcomes.ok).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('a batch mixing hosts, constraints, lanes and sessions answers each request as lone leases would', async () => {
    const setup = async (): Promise<TestPool> => {
      const p = await openTestPool({
        interactiveReserve: 0.2,
        exhaustedRetryMs: 250,
        ban: { afterBlocks: 1 },
      });
      await p.pool.upsert(proxySpec('dc-us', { tags: ['dc'], country: 'US', maxConcurrency: 3 }));
      await p.pool.upsert(proxySpec('dc-de', { tags: ['dc'], country: 'DE', maxConcurrency: 2 }));
      await p.pool.upsert(proxySpec('res-us', { tags: ['res', 'mobile'], country: 'US', maxConcurrency: 3 }));
      await p.pool.upsert(proxySpec('res-de', { tags: ['res'], country: 'DE', maxConcurrency: 2 }));
      // dc-us cools for cool.test, every proxy but res-de is banned for shop.test ... one at a time
      const cool = await leaseOk(p.pool, interactive('cool.test'));
      await p.pool.release(cool, { outcome: 'rate_limited', retryAfterMs: 5000 });
      p.clock.advance(1000);
      const banned: string[] = [];
      for (let i = 0; i < 3; i++) {
        const l = await leaseOk(p.pool, interactive('shop.test'));
        banned.push(l.proxyId);
        await p.pool.release(l, { outcome: 'blocked' });
      }
      // a session already on res-us
      await p.pool.release(
        await leaseOk(p.pool, interactive('x.test', { session: 'old', tags: ['mobile'] })),
        {
          outcome: 'ok',
        },
      );
      return p;
    };
    const requests: LeaseRequest[] = [
      interactive('cool.test'),
      interactive('cool.test', { tags: ['dc'], country: 'us' }),
      interactive('x.test', { session: 'old' }),
      interactive('x.test', { session: 'new', tags: ['res'] }),
      interactive('x.test', { session: 'new', tags: ['res'] }),
      { lane: 'batch', host: 'x.test', ttlMs: 1234 },
      interactive('shop.test'),
      interactive('shop.test'),
      interactive('shop.test', { tags: ['dc'] }),
      interactive('y.test', { tags: ['isp'] }),
      interactive('y.test', { country: 'DE', tags: ['dc'] }),
      interactive('y.test', { country: 'DE', tags: ['dc'] }),
      interactive('y.test', { country: 'DE', tags: ['dc'] }),
      { lane: 'batch', host: 'z.test', tags: ['res'] },
      { lane: 'batch', host: 'z.test' },
      { lane: 'batch', host: 'z.test' },
      { lane: 'batch', host: 'z.test' },
      interactive('Z.test.', { session: 'new' }),
      interactive('cool.test', { session: 'old' }),
      interactive('z.test'),
      interactive('z.test'),
    ];
    const shape = (r: LeaseResult) =>
      r.exhausted
        ? r
        : { proxyId: r.proxyId, epoch: r.epoch, expiresAt: r.expiresAt, host: r.host, lane: r.lane };
    t = await setup();
    const lone: LeaseResult[] = [];
    const calls = scriptCalls(t.redis);
    try {
      for (const req of requests) lone.push(await t.pool.lease(req));
      // one call per lease: each runs alone
      expect(calls.names).toEqual(requests.map(() => 'lease-many'));
    } finally {
      calls.restore();
    }
    u = await setup();
    const ucalls = scriptCalls(u.redis);
    let batched: LeaseResult[];
    try {
      batched = await Promise.all(requests.map((req) => u!.pool.lease(req)));
      expect(ucalls.names).toEqual(['lease-many']);
    } finally {
      ucalls.restore();
    }
    expect(batched.map(shape)).toEqual(lone.map(shape));
    // the answers cover every rule: cooling, bans, constraints, reserve, sessions, capacity
    const reasons = lone.map((r) => (r.exhausted ? r.reason : 'leased'));
    expect(new Set(reasons)).toEqual(new Set(['leased', 'cooling', 'capacity', 'reserve']));
    expect(await u.redis.hgetall(u.pool.keys.sessions)).toEqual(await t.redis.hgetall(t.pool.keys.sessions));
    expect((await u.pool.list()).map((p) => [p.id, p.inFlight])).toEqual(
      (await t.pool.list()).map((p) => [p.id, p.inFlight]),
    );
    // and the batched leases release like any other
    for (const r of batched)
      if (!r.exhausted) expect(await u.pool.release(r, { outcome: 'ok' })).toBe('released');
    expect((await u.pool.counts()).inFlight).toBe(0);
  });

  it('unconstrained leases in a batch pick the proxies lone leases pick, past the front of the set read at once', async () => {
    // ids whose bytewise order differs from a locale's collation, utilisation ties everywhere
    const ids = Array.from(
      { length: 60 },
      (_, i) => `${['A', 'a', 'B', 'b', 'p', 'P'][i % 6]}${i % 7 ? '-' : '_'}${i}`,
    );
    const setup = async (): Promise<TestPool> => {
      const p = await openTestPool({ interactiveReserve: 0.1, exhaustedRetryMs: 100 });
      for (const [i, id] of ids.entries())
        await p.pool.upsert(proxySpec(id, { tags: i % 2 ? ['odd'] : [], maxConcurrency: i % 10 ? 4 : 5 }));
      await p.pool.release(await leaseOk(p.pool, interactive('hot.test')), { outcome: 'rate_limited' });
      // one lease on every proxy, then every fifth back: utilisation 0 for a few, ties for the rest
      const first: Lease[] = [];
      for (let i = 0; i < ids.length; i++) first.push(await leaseOk(p.pool, interactive('x.test')));
      for (const [i, l] of first.entries()) if (i % 5 === 0) await p.pool.release(l, { outcome: 'ok' });
      return p;
    };
    t = await setup();
    u = await setup();
    const held: [Lease[], Lease[]] = [[], []];
    for (let round = 0; round < 6; round++) {
      const requests: LeaseRequest[] = Array.from({ length: 20 + round * 4 }, (_, i) =>
        i === 17
          ? interactive('x.test', { tags: ['odd'] })
          : i === 25
            ? interactive('hot.test')
            : { lane: i % 3 ? 'interactive' : 'batch', host: 'x.test' },
      );
      const lone: LeaseResult[] = [];
      for (const req of requests) lone.push(await t.pool.lease(req));
      const batched = await Promise.all(requests.map((req) => u!.pool.lease(req)));
      const shape = (r: LeaseResult) => (r.exhausted ? r : { proxyId: r.proxyId, epoch: r.epoch });
      expect(batched.map(shape), `round ${round}`).toEqual(lone.map(shape));
      for (const [k, results] of [lone, batched].entries())
        for (const r of results) if (!r.exhausted) held[k]!.push(r);
      // give back every other lease held, the same in both pools
      for (const [k, pool] of [t.pool, u.pool].entries()) {
        const keep: Lease[] = [];
        const back: Lease[] = [];
        for (const [i, l] of held[k]!.entries()) (i % 2 ? back : keep).push(l);
        held[k] = keep;
        expect(new Set(await Promise.all(back.map((l) => pool.release(l, { outcome: 'ok' }))))).toEqual(
          new Set(['released']),
        );
      }
    }
    const state = async (p: TestPool) => ({
      list: (await p.pool.list()).map((x) => [x.id, x.inFlight, x.outcomes.ok]),
      all: await p.redis.zrange(p.pool.keys.available, '0', '-1', 'WITHSCORES'),
      odd: await proxyScores(p.redis, p.pool.keys.base + 'a:t:odd'),
    });
    expect(await state(u)).toEqual(await state(t));
  });
});
