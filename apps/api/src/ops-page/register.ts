import type { BatchStore } from '@switchyard/batches';
import type { Config } from '@switchyard/config';
import { FailureLog } from '@switchyard/jobs';
import type { Ledger } from '@switchyard/ledger';
import { opsPageAssetsDir } from '@switchyard/ops-page';
import type { ProxyPool } from '@switchyard/proxy-pool';
import type { FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { TenantStore } from '../tenancy/tenant-store.ts';
import { LaneHistory, type LaneSource } from './lane-history.ts';
import { OverviewReader } from './overview.ts';
import { registerOpsPageRoutes } from './routes.ts';

/** How often each API replica offers to take the minute's lanes sample (one replica does). */
const SAMPLE_EVERY_MS = 15_000;

export interface OpsPageDeps {
  config: Config;
  redis: Redis | Cluster;
  lanes: LaneSource;
  tenants: TenantStore;
  ledger: Ledger;
  pool: ProxyPool;
  batches: BatchStore;
  /** Where the built page is; opsPageAssetsDir() unless a test says otherwise. */
  assetsDir?: string;
}

/** The ops page at /admin (docs/adr/0016-ops-page.md), and the sampler behind its lanes chart. */
export async function registerOpsPage(app: FastifyInstance, deps: OpsPageDeps): Promise<void> {
  const { redis, config } = deps;
  const { prefix } = config.redis;
  const history = new LaneHistory({ redis, prefix, lanes: deps.lanes });
  const overview = new OverviewReader({
    lanes: deps.lanes,
    history,
    pool: deps.pool,
    tenants: deps.tenants,
    ledger: deps.ledger,
    failures: new FailureLog({ redis, prefix }),
    batches: deps.batches,
  });
  await registerOpsPageRoutes(app, {
    adminKey: config.api.adminKey,
    tenants: deps.tenants,
    overview,
    assetsDir: deps.assetsDir ?? opsPageAssetsDir(),
  });

  const sample = () =>
    void history
      .tick()
      .catch((err: unknown) => app.log.warn({ err }, 'lanes sample for the ops page failed'));
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    sample();
    timer = setInterval(sample, SAMPLE_EVERY_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
