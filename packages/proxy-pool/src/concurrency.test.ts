import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyPool } from './proxy-pool.ts';
import { openTestPool, proxySpec, type TestPool } from './test-support.ts';
import type { Lease } from './types.ts';

describe('lease under concurrency', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('maxConcurrency is never exceeded under 500 concurrent lease calls', async () => {
    t = await openTestPool({ interactiveReserve: 0 });
    const max = { a: 7, b: 3, c: 20, d: 1 } as Record<string, number>;
    for (const [id, maxConcurrency] of Object.entries(max))
      await t.pool.upsert(proxySpec(id, { maxConcurrency }));
    // five clients, as five worker processes would be
    const clients = Array.from({ length: 5 }, () => new Redis(t.redis.options));
    try {
      const pools = clients.map(
        (redis) => new ProxyPool({ redis, prefix: t.prefix, now: () => 1_700_000_000_000 }),
      );
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          pools[i % pools.length]!.lease({ lane: i % 2 ? 'batch' : 'interactive', host: `h${i % 3}.test` }),
        ),
      );
      const leases = results.filter((r): r is Lease => !r.exhausted);
      expect(leases).toHaveLength(31);
      const perProxy = new Map<string, number>();
      for (const l of leases) perProxy.set(l.proxyId, (perProxy.get(l.proxyId) ?? 0) + 1);
      expect(Object.fromEntries(perProxy)).toEqual(max);
      expect(new Set(leases.map((l) => l.epoch)).size).toBe(31);
      for (const p of await t.pool.list()) expect(p.inFlight).toBe(max[p.id]);

      // and the same again with releases interleaved
      await Promise.all(leases.map((l, i) => pools[i % pools.length]!.release(l, { outcome: 'ok' })));
      let peak = 0;
      const inFlight = new Map<string, number>();
      await Promise.all(
        Array.from({ length: 500 }, async (_, i) => {
          const pool = pools[i % pools.length]!;
          const r = await pool.lease({ lane: 'interactive', host: 'x.test' });
          if (r.exhausted) return;
          const n = (inFlight.get(r.proxyId) ?? 0) + 1;
          inFlight.set(r.proxyId, n);
          expect(n).toBeLessThanOrEqual(max[r.proxyId]!);
          peak = Math.max(peak, n);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight.set(r.proxyId, (inFlight.get(r.proxyId) ?? 1) - 1);
          await pool.release(r, { outcome: 'ok' });
        }),
      );
      expect(peak).toBeGreaterThan(1);
      expect((await t.pool.counts()).inFlight).toBe(0);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});
