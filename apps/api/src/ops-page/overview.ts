import type { BatchStore } from '@switchyard/batches';
import type { BatchProgress, OpsOverview, ProxyRow, Tenant, TenantSpend } from '@switchyard/contracts';
import { groupFailures, type FailureLog } from '@switchyard/jobs';
import { utcDay, type Ledger } from '@switchyard/ledger';
import type { ProxyHealth, ProxyPool } from '@switchyard/proxy-pool';
import type { TenantStore } from '../tenancy/tenant-store.ts';
import type { LaneHistory, LaneSource } from './lane-history.ts';

/** The page shows at most this many tenants (by id), and their latest batches. */
export const PAGE_TENANTS = 200;
const BATCHES_PER_TENANT = 5;
const PAGE_BATCHES = 20;
/** Viewers polling at once share one read of Redis per this period. */
const CACHE_MS = 1_000;

export interface OverviewDeps {
  lanes: LaneSource;
  history: Pick<LaneHistory, 'read'>;
  pool: Pick<ProxyPool, 'list'>;
  tenants: Pick<TenantStore, 'list'>;
  ledger: Pick<Ledger, 'usage'>;
  failures: Pick<FailureLog, 'recent' | 'capacity'>;
  batches: Pick<BatchStore, 'list'>;
}

function proxyRow(p: ProxyHealth): ProxyRow {
  return {
    id: p.id,
    url: p.url,
    state: p.state,
    in_flight: p.inFlight,
    max_concurrency: p.maxConcurrency,
    consecutive_faults: p.consecutiveFaults,
    quarantined_until: p.quarantinedUntil ?? null,
    cooling: p.cooling,
    banned: p.banned,
  };
}

/**
 * Everything `GET /admin/api/overview` answers, read fresh at most once a second per API process.
 * Tenants' spend and batches cost one pipelined read each per tenant, for the first PAGE_TENANTS.
 */
export class OverviewReader {
  readonly #deps: OverviewDeps;
  #cached: { at: number; value: Promise<OpsOverview> } | undefined;

  constructor(deps: OverviewDeps) {
    this.#deps = deps;
  }

  read(now = Date.now()): Promise<OpsOverview> {
    if (this.#cached && now - this.#cached.at < CACHE_MS) return this.#cached.value;
    const value = this.#readFresh(now);
    this.#cached = { at: now, value };
    // A failed read is not cached: the next viewer tries again.
    value.catch(() => (this.#cached = undefined));
    return value;
  }

  async #readFresh(now: number): Promise<OpsOverview> {
    const d = this.#deps;
    const tenantList = await d.tenants.list(PAGE_TENANTS);
    const [lanes, history, proxies, tenants, failures, batches] = await Promise.all([
      d.lanes.report(),
      d.history.read(now),
      d.pool.list(),
      Promise.all(tenantList.map((t) => this.#spendToday(t, now))),
      d.failures.recent(),
      this.#recentBatches(tenantList),
    ]);
    return {
      object: 'ops_overview',
      at: new Date(now).toISOString(),
      lanes,
      history,
      proxies: proxies.map(proxyRow),
      tenants,
      failures: { window: d.failures.capacity, groups: groupFailures(failures) },
      batches,
    };
  }

  async #spendToday(t: Tenant, now: number): Promise<TenantSpend> {
    const day = utcDay(now);
    const usage = await this.#deps.ledger.usage(t.id, { from: day, to: day, groupBy: 'model' });
    return {
      id: t.id,
      name: t.name,
      daily_budget_usd: t.daily_budget_usd,
      spend_usd: usage.total.cost.usd,
      retry_share: usage.retry_share,
      models: usage.rows.map((r) => ({
        model: r.key,
        attempts: r.attempts,
        retries: r.retries,
        spend_usd: r.cost.usd,
        retry_share: r.cost.nano_usd === 0 ? 0 : r.retry_cost.nano_usd / r.cost.nano_usd,
      })),
    };
  }

  async #recentBatches(tenants: Tenant[]): Promise<BatchProgress[]> {
    const pages = await Promise.all(
      tenants.map(async (t) => {
        const page = await this.#deps.batches.list(t.id, { limit: BATCHES_PER_TENANT });
        return page.data.map((b) => ({ tenantId: t.id, b }));
      }),
    );
    return pages
      .flat()
      .sort((x, y) => (x.b.created_at < y.b.created_at ? 1 : x.b.created_at > y.b.created_at ? -1 : 0))
      .slice(0, PAGE_BATCHES)
      .map(({ tenantId, b }) => ({
        id: b.id,
        tenant_id: tenantId,
        status: b.status,
        total: b.counts.accepted,
        succeeded: b.counts.succeeded,
        failed: b.counts.failed,
        canceled: b.counts.canceled,
        queued_or_running: b.counts.queued_or_running,
        created_at: b.created_at,
      }));
  }
}
