import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolMetrics } from './metrics.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  for (const metric of await registry.getMetricsAsJSON()) {
    const entry = metric.values.find(
      (v) =>
        ((v as { metricName?: string }).metricName ?? metric.name) === name &&
        Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
    );
    if (entry) return entry.value;
  }
  return undefined;
}

describe('PoolMetrics', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('counts outcomes, bytes, rate limits, stale releases and exhaustion, and reads the pool gauges from Redis', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics({ registry, countsMaxAgeMs: 0 });
    t = await openTestPool({ metrics, interactiveReserve: 0.5, ban: { afterBlocks: 1 } });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('c', { maxConcurrency: 2 }));

    // a holds one lease; b takes the ok, the 429, the block (banned for y.test) and the fault
    const held = await leaseOk(t.pool, interactive('x.test'));
    const ok = await leaseOk(t.pool, interactive('x.test'));
    await t.pool.release(ok, { outcome: 'ok', bytes: 1000 });
    const limited = await leaseOk(t.pool, interactive('x.test'));
    await t.pool.release(limited, { outcome: 'rate_limited', bytes: 10 });
    await t.pool.release(await leaseOk(t.pool, interactive('y.test')), { outcome: 'blocked' });
    const faulty = await leaseOk(t.pool, interactive('z.test'));
    await t.pool.release(faulty, { outcome: 'proxy_fault' });
    await t.pool.release(faulty, { outcome: 'ok' });
    expect([held.proxyId, ok.proxyId, limited.proxyId, faulty.proxyId]).toEqual(['a', 'b', 'b', 'b']);
    await t.pool.drain('c');
    // capacity in service is a's 2, half of it reserved: a's one lease leaves batch nothing
    for (let i = 0; i < 3; i++)
      expect(await t.pool.lease({ lane: 'batch', host: 'w.test' })).toMatchObject({ reason: 'reserve' });

    expect(await value(registry, 'switchyard_pool_outcomes_total', { outcome: 'ok', proxy: 'b' })).toBe(1);
    expect(
      await value(registry, 'switchyard_pool_outcomes_total', { outcome: 'proxy_fault', proxy: 'b' }),
    ).toBe(1);
    expect(await value(registry, 'switchyard_pool_rate_limited_total', { proxy: 'b' })).toBe(1);
    expect(await value(registry, 'switchyard_pool_bytes_total', { proxy: 'b' })).toBe(1010);
    expect(await value(registry, 'switchyard_pool_stale_releases_total')).toBe(1);
    expect(
      await value(registry, 'switchyard_pool_exhausted_total', { lane: 'batch', reason: 'reserve' }),
    ).toBe(3);
    expect(
      await value(registry, 'switchyard_pool_lease_wait_seconds_count', {
        lane: 'interactive',
        result: 'leased',
      }),
    ).toBe(5);

    expect(await value(registry, 'switchyard_pool_leases_in_flight')).toBe(1);
    expect(await value(registry, 'switchyard_pool_capacity')).toBe(2);
    const states = Object.fromEntries(
      await Promise.all(
        (['available', 'cooling', 'quarantined', 'draining'] as const).map(async (s) => [
          s,
          await value(registry, 'switchyard_pool_proxies', { state: s }),
        ]),
      ),
    );
    expect(states).toEqual({ available: 1, cooling: 0, quarantined: 1, draining: 1 });
    expect(await value(registry, 'switchyard_pool_banned_pairs')).toBe(1);
    expect(await value(registry, 'switchyard_pool_banned_proxies')).toBe(1);
    await t.pool.release(held, { outcome: 'ok' });
    expect(await registry.metrics()).toContain('# HELP switchyard_pool_exhausted_total');
  });

  it('a scrape while Redis is unreachable keeps the last gauge values instead of failing', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics({ registry, countsMaxAgeMs: 0 });
    metrics.attach({ counts: () => Promise.reject(new Error('connection refused')) });
    t = await openTestPool();
    await expect(registry.metrics()).resolves.toContain('switchyard_pool_leases_in_flight');
  });
});
