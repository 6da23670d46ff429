import type { Ledger } from '@switchyard/ledger';
import { utcDay } from '@switchyard/ledger';
import { registerRedisUp } from '@switchyard/telemetry';
import type { Cluster, Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { TenantStore } from './tenancy/tenant-store.ts';

/** Tenants read per scrape at most: two HGETs each. Past it, the alert misses the rest. */
export const MAX_TENANTS_PER_SCRAPE = 1_000;
/** One read of the tenants serves every scrape for this long (Prometheus replicas, both gauges). */
const SNAPSHOT_MAX_AGE_MS = 15_000;

interface TenantSpend {
  tenantId: string;
  spentNanos: number;
  budgetNanos: number | undefined;
}

export interface OpsMetricsDeps {
  redis: Redis | Cluster;
  tenants: Pick<TenantStore, 'tenantIds' | 'dailyBudgetNanos'>;
  ledger: Pick<Ledger, 'daySpendNanos'>;
}

/**
 * What the alerts in infra/prometheus/alerts.yml read from the API, besides the queue: whether
 * Redis answers (`switchyard_redis_up`), and each tenant's spend today (UTC) against its daily
 * budget, the figures admission's budget check compares (budget.ts). Every API replica reports
 * the same fleet-wide values: aggregate with max, not sum.
 */
export function registerOpsMetrics(registry: Registry, deps: OpsMetricsDeps): void {
  registerRedisUp(registry, deps.redis);
  const snapshot = tenantSnapshot(deps);
  new Gauge({
    name: 'switchyard_tenant_spend_today_usd',
    help: `USD each tenant spent today (UTC) per the ledger, read at scrape time (at most ${MAX_TENANTS_PER_SCRAPE} tenants, reread every 15 s); one series per tenant`,
    labelNames: ['tenant'],
    registers: [registry],
    collect: async function (this: Gauge<'tenant'>) {
      const rows = await snapshot();
      if (!rows) return;
      this.reset();
      for (const r of rows) this.set({ tenant: r.tenantId }, r.spentNanos / 1e9);
    },
  });
  new Gauge({
    name: 'switchyard_tenant_daily_budget_usd',
    help: 'Daily budget (USD, UTC day) of each tenant that has one; admission refuses jobs once the spend reaches it',
    labelNames: ['tenant'],
    registers: [registry],
    collect: async function (this: Gauge<'tenant'>) {
      const rows = await snapshot();
      if (!rows) return;
      this.reset();
      for (const r of rows)
        if (r.budgetNanos !== undefined) this.set({ tenant: r.tenantId }, r.budgetNanos / 1e9);
    },
  });
}

/** One read of every tenant's spend and budget shared for a while; Redis down keeps the last values. */
function tenantSnapshot(deps: OpsMetricsDeps): () => Promise<TenantSpend[] | undefined> {
  let last: { at: number; rows: Promise<TenantSpend[] | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > SNAPSHOT_MAX_AGE_MS) {
      last = { at: now, rows: readTenants(deps, utcDay(now)).catch(() => undefined) };
    }
    return last.rows;
  };
}

async function readTenants(deps: OpsMetricsDeps, day: string): Promise<TenantSpend[]> {
  const ids = await deps.tenants.tenantIds(MAX_TENANTS_PER_SCRAPE);
  const rows = await Promise.all(
    ids.map(async (tenantId): Promise<TenantSpend> => {
      const [spentNanos, budgetNanos] = await Promise.all([
        deps.ledger.daySpendNanos(tenantId, day),
        deps.tenants.dailyBudgetNanos(tenantId),
      ]);
      return { tenantId, spentNanos, budgetNanos };
    }),
  );
  return rows;
}
