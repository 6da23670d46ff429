import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from './coalesce.ts';
import { ProxyPool } from './proxy-pool.ts';
import { loadScripts } from './scripts.ts';
import {
  assertLease,
  availabilityScore,
  interactive,
  leaseOk,
  openTestPool,
  proxySpec,
  type TestPool,
} from './test-support.ts';
import type { Lease, LeaseRequest, LeaseResult } from './types.ts';

const sha = (name: string) =>
  createHash('sha1')
    .update(loadScripts().get(name)?.lua ?? '')
    .digest('hex');

/** Which pool scripts a client runs, by name, in order (EVALSHA, or EVAL on the first use). */
function scriptCalls(redis: Redis): { names: string[]; restore: () => void } {
  const byDigest = new Map([...loadScripts().keys()].map((name) => [sha(name), name]));
  const byLua = new Map([...loadScripts().values()].map((s) => [s.lua, s.name]));
  const names: string[] = [];
  const spy = vi.spyOn(redis, 'sendCommand');
  spy.mockImplementation(function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const [command] = args;
    const first = String(command.args[0]);
    if (command.name === 'evalsha') names.push(byDigest.get(first) ?? first);
    else if (command.name === 'eval') names.push(byLua.get(first) ?? 'eval');
    return Redis.prototype.sendCommand.apply(this, args);
  });
  return { names, restore: () => spy.mockRestore() };
}

describe('Coalescer', () => {
  it('sends the items of one tick together, in calls of equal size up to max, in order', async () => {
    const sent: number[][] = [];
    const c = new Coalescer<number, number>(4, async (items) => {
      sent.push(items);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => c.submit(i)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await c.submit(7)).toBe(70);
    expect(sent.at(-1)).toEqual([7]);
  });

  it('a failed call rejects every caller of that call, and only those', async () => {
    const c = new Coalescer<number, number>(2, async (items) => {
      if (items.includes(3)) throw new Error('boom');
      return items;
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => c.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    // a synchronous throw and a short answer reject too
    const sync = new Coalescer<number, number>(8, () => {
      throw new Error('sync');
    });
    await expect(sync.submit(1)).rejects.toThrow('sync');
    const short = new Coalescer<number, number>(8, async () => [1]);
    await expect(Promise.all([short.submit(1), short.submit(2)])).rejects.toThrow(/answered 1 of 2/);
  });
});

describe('lease-many-6.lua and release-many-1.lua (leases and releases of one tick in one call)', () => {
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
      expect(calls.names).toEqual(['lease', 'release-plain']);
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
    expect(await t.redis.zcount(t.pool.keys.leases, '-inf', '(+inf')).toBe(6);
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
      expect(new Set(calls.names)).toEqual(new Set(['lease']));
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
      sets: await Promise.all(
        ['a', 'a:t:odd'].map((k) => p.redis.zrange(p.pool.keys.base + k, '0', '-1', 'WITHSCORES')),
      ),
    });
    expect(await state(u)).toEqual(await state(t));
  });

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
    expect(await t.redis.zrange(t.pool.keys.available, '0', '-1', 'WITHSCORES')).toEqual([
      'a',
      availabilityScore(0, 10),
      'b',
      availabilityScore(0, 10),
    ]);
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

  it('a batched release of a lease whose proxy was removed and re-added changes nothing on it', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    const old = await Promise.all([1, 2].map(() => leaseOk(t.pool, interactive('x.test'))));
    await t.pool.remove('a');
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    const fresh = await leaseOk(t.pool, interactive('x.test'));
    expect(
      await Promise.all([...old, fresh].map((l) => t.pool.release(l, { outcome: 'ok', bytes: 7 }))),
    ).toEqual(['released', 'released', 'released']);
    expect((await t.pool.list())[0]).toMatchObject({ inFlight: 0, bytes: 7, outcomes: { ok: 1 } });
  });
});
