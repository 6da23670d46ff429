import { Ledger, utcDay } from '@switchyard/ledger';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOpsMetrics } from './ops-metrics.ts';
import { tenancyKeys } from './tenancy/keys.ts';
import { TenantStore } from './tenancy/tenant-store.ts';

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await redis?.quit();
  await handle?.stop();
});

describe('API ops metrics', () => {
  it('each tenant’s spend today and, for tenants with one, its daily budget; Redis up', async () => {
    const prefix = `${handle.prefix}a`;
    const tenants = new TenantStore({ redis, prefix });
    const ledger = new Ledger({ redis, prefix, entryTtlSeconds: 3600 });
    await tenants.createTenant({ id: 'capped', name: 'Capped', daily_budget_usd: 2 });
    await tenants.createTenant({ id: 'open', name: 'Open' });
    await ledger.record({
      jobId: 'j_1',
      attempt: 1,
      tenantId: 'capped',
      lane: 'batch',
      kind: 'completion',
      provider: 'openai',
      model: 'gpt-4o-mini',
      proxyId: null,
      outcome: 'ok',
      interrupted: false,
      latencyMs: 5,
      inputTokens: 10,
      outputTokens: 10,
      bytes: 0,
      costNanos: 1_700_000_000,
      at: Date.now(),
    });
    const registry = new Registry();
    registerOpsMetrics(registry, { redis, tenants, ledger });
    const text = await registry.metrics();
    expect(text).toMatch(/^switchyard_tenant_spend_today_usd\{tenant="capped"\} 1\.7$/m);
    expect(text).toMatch(/^switchyard_tenant_spend_today_usd\{tenant="open"\} 0$/m);
    expect(text).toMatch(/^switchyard_tenant_daily_budget_usd\{tenant="capped"\} 2$/m);
    expect(text).not.toMatch(/^switchyard_tenant_daily_budget_usd\{tenant="open"\}/m);
    expect(text).toMatch(/^switchyard_redis_up 1$/m);
    expect(await ledger.daySpendNanos('capped', utcDay(Date.now()))).toBe(1_700_000_000);
  });

  it('reads at most the given number of tenants, in steps, however many there are', async () => {
    const prefix = `${handle.prefix}b`;
    const ids = Array.from({ length: 450 }, (_, i) => `t${i}`);
    await redis.sadd(tenancyKeys(prefix).tenants, ...ids);
    const tenants = new TenantStore({ redis, prefix });
    const some = await tenants.tenantIds(300);
    expect(some).toHaveLength(300);
    expect(new Set(some).size).toBe(300);
    expect((await tenants.tenantIds(1_000)).sort()).toEqual([...ids].sort());
  });
});
