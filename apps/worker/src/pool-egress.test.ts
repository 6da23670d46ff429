import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProxyDispatchers, ProxyPool, type ProxySpec } from '@switchyard/proxy-pool';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import type { EgressGrant, EgressRequest } from './egress.ts';
import { PoolEgress } from './pool-egress.ts';

const proxy = (id: string, pricePerGbUsd: number, tags: string[] = []): ProxySpec => ({
  id,
  url: `http://user:secret@127.0.0.1:${3128 + id.length}`,
  tags,
  maxConcurrency: 10,
  pricePerGbUsd,
});

const scrape = (proxyConstraints?: { tags?: string[] }): EgressRequest => ({
  spec: {
    type: 'scrape',
    request: { url: 'https://shop.test/', method: 'GET', format: 'text', only_main_content: true },
    lane: 'batch',
    priority: 0,
    timeout_ms: 10_000,
    ...(proxyConstraints ? { proxy: proxyConstraints } : {}),
  },
  lane: 'interactive',
  model: null,
  host: 'shop.test',
});

describe('PoolEgress', () => {
  let handle: RedisHandle;
  let redis: Redis;
  let pool: ProxyPool;
  let egress: PoolEgress;

  beforeEach(async () => {
    handle = await startRedis();
    redis = new Redis(handle.url);
    pool = new ProxyPool({ redis, prefix: handle.prefix });
    egress = new PoolEgress({ pool, dispatchers: new ProxyDispatchers(), leaseTtlMs: () => 30_000 });
  });
  afterEach(async () => {
    await egress.close();
    redis.disconnect();
    await handle.stop();
  });

  const granted = (g: Awaited<ReturnType<PoolEgress['acquire']>>): EgressGrant => {
    if ('exhausted' in g) throw new Error(`exhausted: ${g.reason}`);
    return g;
  };

  it('prices an attempt from its lease (lone or batched) without listing the pool', async () => {
    await pool.upsert(proxy('cheap', 0.5, ['dc']));
    await pool.upsert(proxy('dear', 12.25, ['res']));
    const list = vi.spyOn(pool, 'list');
    const lone = granted(await egress.acquire(scrape({ tags: ['res'] })));
    expect([lone.proxyId, lone.nanosPerByte]).toEqual(['dear', 12.25]);
    // acquired in the same tick: one lease-many call
    const batch = (
      await Promise.all(
        [scrape({ tags: ['dc'] }), scrape({ tags: ['res'] }), scrape()].map((r) => egress.acquire(r)),
      )
    ).map(granted);
    expect(batch.map((g) => [g.proxyId, g.nanosPerByte])).toEqual([
      ['cheap', 0.5],
      ['dear', 12.25],
      ['cheap', 0.5],
    ]);
    for (const g of [lone, ...batch]) await g.release({ outcome: 'ok', bytes: 100 });
    expect(list).not.toHaveBeenCalled();
  });

  it("an upserted price applies from the proxy's next lease", async () => {
    await pool.upsert(proxy('p1', 1));
    const before = granted(await egress.acquire(scrape()));
    expect(before.nanosPerByte).toBe(1);
    expect(await pool.upsert(proxy('p1', 3.75))).toBe('updated');
    const after = granted(await egress.acquire(scrape()));
    expect([after.proxyId, after.nanosPerByte]).toEqual(['p1', 3.75]);
    await Promise.all([before, after].map((g) => g.release({ outcome: 'ok', bytes: 1 })));
    expect((await pool.list())[0]).toMatchObject({ inFlight: 0, pricePerGbUsd: 3.75 });
  });
});
