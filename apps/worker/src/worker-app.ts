import type { Config } from '@switchyard/config';
import type { JobSpec } from '@switchyard/contracts';
import { Ledger } from '@switchyard/ledger';
import {
  createHttpProbe,
  PoolMetrics,
  ProxyDispatchers,
  ProxyPool,
  ProxyProber,
} from '@switchyard/proxy-pool';
import { FairMover, FairShare, TenantLoad } from '@switchyard/admission';
import { BatchStore, type BatchJobOutcome } from '@switchyard/batches';
import { JobStore, parseFailure, redisOptions, type JobData, type JobReturn } from '@switchyard/jobs';
import { WebhookOutbox } from '@switchyard/webhooks';
import { createRegistry, type Logger, type Registry } from '@switchyard/telemetry';
import type { Server } from 'node:http';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { Agent } from 'undici';
import { TargetGuard, TargetPolicy } from '@switchyard/scrape';
import { CancelListener } from './cancel-listener.ts';
import { Keys } from './worker-keys.ts';
import { connectProbe } from './connect-probe.ts';
import { DirectEgress, type Egress } from './egress.ts';
import { startMetricsServer, WorkerMetrics } from './metrics.ts';
import { PoolEgress } from './pool-egress.ts';
import { AttemptState } from './attempt-state.ts';
import { DeltaRelay } from './delta-relay.ts';
import { RetryBudget } from './retry-budget.ts';
import { targetHost } from './target-host.ts';
import { completionExecutor } from './executors/completion.ts';
import { scrapeExecutor } from './executors/scrape.ts';
import { backoffStrategy, createProcessor } from './processor.ts';
import { WebhookWorker } from './webhook-worker.ts';

export interface WorkerAppOptions {
  config: Config;
  logger: Logger;
  /** Provider API keys by env var name. */
  secrets: Record<string, string | undefined>;
}

/** One BullMQ Worker per served lane, each with its own concurrency, sharing one processor. */
export class WorkerApp {
  private readonly opts: WorkerAppOptions;
  private readonly workers: Worker<JobData, JobReturn>[] = [];
  private readonly clients: Redis[] = [];
  /** Upstream connections per origin: at least one per job slot, so no attempt queues inside undici. */
  private readonly dispatcher: Agent;
  /** Receivers get their own connection pool: a slow one never holds an upstream connection. */
  private readonly webhookDispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  private webhookWorker: WebhookWorker | undefined;
  private outbox: WebhookOutbox | undefined;
  private jobStore: JobStore | undefined;
  private cancelListener: CancelListener | undefined;
  private prober: ProxyProber | undefined;
  private mover: FairMover | undefined;
  private metricsServer: Server | undefined;
  private poolEgress: PoolEgress | undefined;
  readonly registry: Registry = createRegistry('worker');
  /** The pool this worker leases from (also used by tests and the standalone launcher). */
  pool: ProxyPool | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: WorkerAppOptions) {
    this.opts = opts;
    const { concurrency, lanes } = opts.config.worker;
    const slots = lanes.reduce((sum, lane) => sum + concurrency[lane], 0);
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: Math.max(256, slots) });
  }

  private client(name: string, extra: RedisOptions = {}): Redis {
    const redis = new Redis(this.opts.config.redis.url, {
      ...redisOptions({ role: 'worker', name }),
      ...extra,
    });
    redis.on('error', (err) =>
      this.opts.logger.warn({ err: { message: err.message } }, 'redis connection error'),
    );
    this.clients.push(redis);
    return redis;
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    const keys = new Keys(config.redis.prefix);
    // Every job's bookkeeping goes through this client: commands issued in the same tick (many
    // jobs run at once) leave in one write instead of one syscall each.
    const commands = this.client('sy-worker', { enableAutoPipelining: true });
    const direct = new DirectEgress(this.dispatcher);
    const metrics = new WorkerMetrics(this.registry);
    const pool = new ProxyPool({
      redis: commands,
      prefix: config.redis.prefix,
      interactiveReserve: config.pool.interactiveReserve,
      quarantine: { baseMs: config.pool.quarantineBaseMs },
      metrics: new PoolMetrics({ registry: this.registry }),
      logger,
    });
    this.pool = pool;
    for (const proxy of config.proxies) await pool.upsert(proxy);
    const timeoutOf = (spec: JobSpec, model: string | null) =>
      spec.type === 'scrape' ? config.scrape.timeoutMs : (config.models[model ?? '']?.timeoutMs ?? 60_000);
    const poolEgress = new PoolEgress({
      pool,
      dispatchers: new ProxyDispatchers(),
      leaseTtlMs: ({ spec, model }) => timeoutOf(spec, model) + config.pool.leaseMarginMs,
    });
    this.poolEgress = poolEgress;
    const egressFor = (spec: JobSpec, model: string | null): Egress => {
      const mode = spec.type === 'scrape' ? config.scrape.egress : config.models[model ?? '']?.egress;
      return mode === 'pool' ? poolEgress : direct;
    };
    this.prober = new ProxyProber({
      pool,
      probe: config.pool.probeUrl ? createHttpProbe({ url: config.pool.probeUrl }) : connectProbe,
      intervalMs: config.pool.probeIntervalMs,
      logger,
    });
    this.prober.start();
    const retention = config.jobs.retentionSeconds + 3600;
    const ledger = new Ledger({ redis: commands, prefix: config.redis.prefix, entryTtlSeconds: retention });
    const { retentionSeconds } = config.jobs;
    const outbox = new WebhookOutbox({ redis: commands, keys, ...config.webhooks, retentionSeconds });
    this.outbox = outbox;
    const batches = new BatchStore({ redis: commands, keys, retentionSeconds, webhooks: outbox });
    const load = new TenantLoad({ redis: commands, keys, limits: config.limits });
    /**
     * A job reached its final state: it stops counting against its tenant's limits, is counted
     * (once) with its ledger cost on its batch, and its `job.finished` webhook is enqueued (once:
     * the event id is the delivery's job id).
     */
    const onFinal = (job: Job<JobData, JobReturn> | undefined, status: BatchJobOutcome) => {
      const jobId = job?.id;
      if (!job || !jobId) return;
      void load
        .finished(job.data.tenantId, [jobId])
        .catch((err: unknown) => logger.warn({ err, jobId }, 'tenant load update failed'));
      if (job.data.spec.webhook) {
        void outbox
          .jobFinished(job)
          .catch((err: unknown) => logger.warn({ err, jobId }, 'webhook enqueue failed'));
      }
      const batch = job.data.batch;
      if (!batch) return;
      // A succeeded job returned its total cost (the ledger's, every attempt); others are read.
      const ret = status === 'succeeded' ? (job.returnvalue as JobReturn | undefined) : undefined;
      const cost = ret
        ? Promise.resolve(ret.costNanos)
        : ledger.jobTotals(job.data.tenantId, jobId).then((t) => t.costNanos);
      void cost
        .then((costNanos) => batches.recordFinished(job.data.tenantId, batch.id, jobId, status, costNanos))
        .catch((err: unknown) => logger.warn({ err, jobId }, 'batch count failed'));
    };
    const processor = createProcessor({
      logger,
      backoffMs: config.jobs.backoffMs,
      maxAttempts: config.jobs.maxAttempts,
      completion: completionExecutor({ models: config.models, secrets: this.opts.secrets }),
      scrape: scrapeExecutor(config.scrape),
      egressFor,
      metrics,
      hostOf: (spec, model) => targetHost(spec, model, config),
      providerOf: (model) => config.models[model]?.provider ?? null,
      isCanceled: async (jobId) => (await commands.exists(keys.cancel(jobId))) === 1,
      attempts: new AttemptState({ redis: commands, keys, ttlSeconds: retention }),
      budget: new RetryBudget({
        redis: commands,
        key: keys.retryBudget,
        ...config.jobs.retryBudget,
        onError: (err) => logger.warn({ err }, 'retry budget unavailable'),
      }),
      ledger,
      load,
      relayFor: (jobId, attempt) => new DeltaRelay({ redis: commands, keys, jobId, attempt }),
    });
    for (const lane of config.worker.lanes) {
      const worker = new Worker<JobData, JobReturn>(keys.queueName(lane), processor, {
        connection: this.client(`sy-worker-${lane}`),
        prefix: keys.prefix,
        concurrency: config.worker.concurrency[lane],
        settings: { backoffStrategy },
        lockDuration: config.worker.lockDurationMs,
        stalledInterval: config.worker.lockDurationMs,
        // BullMQ fails a job stalled more than maxStalledCount times (default 1) behind the retry
        // authority's back; the attempt counter already stops re-runs at the attempt limit
        // ("interrupted on its last allowed attempt"), so BullMQ's own limit is only a backstop.
        maxStalledCount: 100,
        autorun: false,
      });
      worker.on('error', (err) => logger.warn({ lane, err: { message: err.message } }, 'worker error'));
      worker.on('completed', (job) => onFinal(job, 'succeeded'));
      worker.on('failed', (job) => {
        if (!job?.finishedOn) return; // set on the final failure only, not before a retry
        onFinal(job, parseFailure(job.failedReason).code === 'canceled' ? 'canceled' : 'failed');
      });
      this.workers.push(worker);
    }
    this.cancelListener = new CancelListener({
      subscriber: this.client('sy-worker-cancel'),
      keys,
      onCancel: (jobId) => {
        for (const w of this.workers)
          if (w.cancelJob(jobId, 'canceled')) logger.info({ jobId }, 'aborting canceled job');
      },
    });
    await this.cancelListener.start();
    if (config.fairness.enabled && config.worker.lanes.includes('batch')) {
      const batchQueue = new Queue(keys.queueName('batch'), { connection: commands, prefix: keys.prefix });
      this.mover = new FairMover({
        fair: new FairShare({ redis: commands, keys }),
        queue: batchQueue,
        buffer: config.fairness.bufferJobs,
        onError: (err) => logger.warn({ err }, 'fair-share mover failed a round'),
      });
      this.mover.start();
    }
    this.jobStore = new JobStore({ redis: commands, keys, ...config.jobs, costs: ledger });
    this.webhookWorker = new WebhookWorker({
      connection: this.client('sy-worker-webhooks'),
      redis: commands,
      keys,
      jobs: this.jobStore,
      batches,
      concurrency: config.worker.webhookConcurrency,
      timeoutMs: config.webhooks.timeoutMs,
      dispatcher: this.webhookDispatcher,
      guard: new TargetGuard({ policy: new TargetPolicy({ ...config.webhooks, section: 'webhooks' }) }),
      logger,
      metrics,
    });
    this.metricsServer = await startMetricsServer(
      this.registry,
      config.worker.metricsHost,
      config.worker.metricsPort,
    );
    for (const w of this.workers) void w.run();
    this.webhookWorker.run();
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), this.webhookWorker.waitUntilReady()]);
    const { concurrency, webhookConcurrency } = config.worker;
    logger.info({ lanes: config.worker.lanes, concurrency, webhookConcurrency }, 'worker started');
  }

  /**
   * Graceful stop: fetch nothing new and let in-flight jobs finish within the grace period. Jobs
   * still running after it are abandoned, not failed: the process drops its connections, their
   * locks expire, and another worker re-runs them as stalled jobs (counted as attempts).
   */
  stop(graceMs = this.opts.config.worker.shutdownGraceMs): Promise<void> {
    this.closing ??= (async () => {
      const { logger } = this.opts;
      logger.info({ graceMs }, 'worker stopping');
      let timer: NodeJS.Timeout | undefined;
      const closing = this.workers.map((w) => w.close());
      if (this.webhookWorker) closing.push(this.webhookWorker.close());
      const graceful = Promise.all(closing).then(() => true);
      const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
      const inTime = await Promise.race([graceful, expired]);
      clearTimeout(timer);
      if (!inTime) {
        logger.warn('grace period over; abandoning unfinished jobs to be re-run elsewhere');
        for (const c of this.clients) c.disconnect();
        this.metricsServer?.close();
        await this.dispatcher.destroy();
        await this.webhookDispatcher.destroy();
        return;
      }
      await this.mover?.stop();
      await this.prober?.stop();
      await this.cancelListener?.close();
      this.metricsServer?.close();
      await this.poolEgress?.close();
      await this.pool?.flush().catch((err: unknown) => logger.warn({ err }, 'proxy pool counts not sent'));
      await this.outbox?.close();
      await this.jobStore?.close();
      await Promise.all(this.clients.map((c) => c.quit().catch(() => c.disconnect())));
      await this.dispatcher.close();
      await this.webhookDispatcher.close();
      logger.info('worker stopped');
    })();
    return this.closing;
  }
}
