import { attemptTtlSeconds, type Config } from '@switchyard/config';
import { FairShare, TenantLoad } from '@switchyard/admission';
import { BatchStore, FileStore } from '@switchyard/batches';
import { JobStore, JobWaiter } from '@switchyard/jobs';
import { WebhookOutbox } from '@switchyard/webhooks';
import { Ledger } from '@switchyard/ledger';
import { PoolMetrics, ProxyPool } from '@switchyard/proxy-pool';
import { createRegistry, type Logger } from '@switchyard/telemetry';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { frameworkErrors, installErrorHandling } from './errors.ts';
import { installRedisGuard } from './redis-guard.ts';
import { openApiDocument } from './openapi.ts';
import { registerQueueMetrics } from './queue-metrics.ts';
import { registerOpsMetrics } from './ops-metrics.ts';
import { registerLaneMetrics } from './ops/lane-metrics.ts';
import { LaneMonitor } from './ops/lane-monitor.ts';
import { installTracing } from './tracing.ts';
import { TenantRateLimit } from './rate-limit.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerBatchRoutes } from './routes/batches.ts';
import { registerFileRoutes } from './routes/files.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerJobEventRoutes } from './routes/job-events.ts';
import { registerLaneRoutes } from './routes/lanes.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerProxyRoutes } from './routes/proxies.ts';
import { registerUsageRoutes } from './routes/usage.ts';
import { registerChatRoutes } from './routes/chat-completions.ts';
import { registerMessagesRoutes } from './routes/messages.ts';
import { TenantStore } from './tenancy/tenant-store.ts';
import { registerOpsPage } from './ops-page/register.ts';

export interface ApiServerDeps {
  config: Config;
  logger: Logger;
  /** An `api`-role client (fail fast). */
  redis: Redis | Cluster;
  /** A `worker`-role client for the blocking event reader behind Prefer: wait. */
  eventsRedis: Redis | Cluster;
}

export interface ApiServer {
  app: FastifyInstance;
  tenants: TenantStore;
  /** The lanes and live workers, as `GET /v1/admin/lanes` reports them. */
  lanes: LaneMonitor;
  close(): Promise<void>;
}

/** Builds the HTTP API. Only main.ts (or the standalone launcher) creates the Redis clients. */
/** What admits jobs: the job store, with the batch lane's fair share (per shard) and tenant limits. */
function admission(config: Config, redis: Redis | Cluster, ledger: Ledger) {
  const { prefix } = config.redis;
  const batchShards = config.lanes.batch.shards;
  const fair = config.fairness.enabled ? new FairShare({ redis, prefix, shards: batchShards }) : undefined;
  const load = new TenantLoad({ redis, prefix, limits: config.limits });
  const { waitReplicas: replicas, waitTimeoutMs: timeoutMs } = config.redis;
  const waitReplicas = { replicas, timeoutMs };
  const jobs = { ...config.jobs, costs: ledger, fair, load, waitReplicas, batchShards };
  return { fair, load, store: new JobStore({ redis, prefix, ...jobs }) };
}

export async function buildApiServer(deps: ApiServerDeps): Promise<ApiServer> {
  const { config, redis } = deps;
  const { prefix } = config.redis;
  const app = Fastify({
    // pino's Logger is wider than FastifyBaseLogger; widening here keeps the instance type plain.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.api.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    frameworkErrors,
  });
  installErrorHandling(app);
  installRedisGuard(app, redis);
  installTracing(app);
  // JSON only: a text/plain body is refused with 415 rather than validated as a string.
  app.removeContentTypeParser('text/plain');
  const ledger = new Ledger({
    redis,
    prefix,
    entryTtlSeconds: attemptTtlSeconds(config),
  });
  const { fair, load, store } = admission(config, redis, ledger);
  const waiter = new JobWaiter({ connection: deps.eventsRedis, prefix });
  const tenants = new TenantStore({ redis, prefix });
  const rateLimit = config.limits.requestsPerSecond
    ? new TenantRateLimit({
        redis,
        prefix,
        requestsPerSecond: config.limits.requestsPerSecond,
        burst: config.limits.burst,
      })
    : undefined;
  const auth = { adminKey: config.api.adminKey, tenants, rateLimit };
  const registry = createRegistry('api');
  const pool = new ProxyPool({ redis, prefix, metrics: new PoolMetrics({ registry }) });

  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerQueueMetrics(registry, store);
  registerOpsMetrics(registry, { redis, tenants, ledger }); // Redis up, tenants' spend vs budget (alerts)
  registerOpsRoutes(app, { config, redis, auth, registry });
  registerJobRoutes(app, { config, store, waiter, auth, ledger, tenants });
  // The API only announces batches that completed before they were finalized; workers do the rest.
  const { retentionSeconds } = config.jobs;
  const webhooks = new WebhookOutbox({ redis, prefix, ...config.webhooks, retentionSeconds });
  const batches = new BatchStore({ redis, prefix, retentionSeconds, jobs: store, webhooks, load });
  const files = new FileStore({ redis, prefix, ...config.files });
  registerBatchRoutes(app, { config, batches, files, auth, tenants, load });
  registerFileRoutes(app, { config, files, batches, auth });
  registerUsageRoutes(app, { ledger, auth });
  registerJobEventRoutes(app, { store, waiter, auth });
  registerChatRoutes(app, { config, redis, store, waiter, auth, ledger, tenants });
  registerMessagesRoutes(app, { config, redis, store, waiter, auth, ledger, tenants });
  registerAdminRoutes(app, { tenants, auth });
  registerProxyRoutes(app, { pool, auth });
  const lanes = new LaneMonitor({ redis, prefix, store, fair, heartbeatMs: config.worker.heartbeatMs });
  registerLaneMetrics(registry, lanes);
  registerLaneRoutes(app, { lanes, auth });
  // The ops page at /admin (docs/adr/0016-ops-page.md).
  await registerOpsPage(app, { config, redis, lanes, tenants, ledger, pool, batches });

  return {
    app,
    tenants,
    lanes,
    async close() {
      await app.close();
      await waiter.close();
      await store.close();
      await webhooks.close();
    },
  };
}
