import { redisUnreachable, type Config } from '@switchyard/config';
import type { JobSpec } from '@switchyard/contracts';
import {
  createHttpProbe,
  PoolMetrics,
  ProxyDispatchers,
  ProxyPool,
  ProxyProber,
} from '@switchyard/proxy-pool';
import type { FairMover } from '@switchyard/admission';
import {
  createRedis,
  JobStore,
  whenReady,
  type JobData,
  type JobReturn,
  type RedisClient,
} from '@switchyard/jobs';
import type { WebhookOutbox } from '@switchyard/webhooks';
import { createRegistry, type Logger, type Registry } from '@switchyard/telemetry';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { Agent } from 'undici';
import { TargetGuard, TargetPolicy } from '@switchyard/scrape';
import { backoffStrategy } from './attempt/errors.ts';
import type { AttemptProcessor } from './attempt/processor.ts';
import { buildProcessor } from './build-processor.ts';
import type { LedgerAhead } from './ledger-ahead.ts';
import { CancelListener } from './cancel-listener.ts';
import { connectProbe } from './connect-probe.ts';
import { DirectEgress } from './egress.ts';
import { EgressRouter } from './egress-router.ts';
import { FinalState } from './final-state.ts';
import { startMetricsServer, WorkerMetrics } from './metrics.ts';
import { PoolEgress, poolPacing } from './pool-egress.ts';
import { ProcessExtractor } from './executors/scrape.ts';
import { openStores, type WorkerStores } from './stores.ts';
import { WebhookWorker } from './webhook-worker.ts';
import { WorkerPresence } from './presence.ts';
import { servedQueues, startFairMovers } from './lane-queues.ts';

export interface WorkerAppOptions {
  config: Config;
  logger: Logger;
  /** Provider API keys by env var name. */
  secrets: Record<string, string | undefined>;
}

/** What the parts of a worker share: one command connection, metrics and stores. */
interface Wiring extends WorkerStores {
  commands: RedisClient;
  metrics: WorkerMetrics;
}

/** One BullMQ Worker per served lane, each with its own concurrency, sharing one processor. */
export class WorkerApp {
  private readonly opts: WorkerAppOptions;
  private readonly workers: Worker<JobData, JobReturn>[] = [];
  private readonly clients: RedisClient[] = [];
  /** Upstream connections per origin: at least one per job slot, so no attempt queues inside undici. */
  private readonly dispatcher: Agent;
  /** Receivers get their own connection pool: a slow one never holds an upstream connection. */
  private readonly webhookDispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  private webhookWorker: WebhookWorker | undefined;
  private outbox: WebhookOutbox | undefined;
  private jobStore: JobStore | undefined;
  private cancelListener: CancelListener | undefined;
  private prober: ProxyProber | undefined;
  private readonly movers: FairMover[] = [];
  private metricsServer: Server | undefined;
  private poolEgress: PoolEgress | undefined;
  private ledgerAhead: LedgerAhead | undefined;
  /** One pool of extraction threads per process, shared by every scrape it runs. */
  private readonly extractor: ProcessExtractor;
  readonly registry: Registry = createRegistry('worker');
  /** The pool this worker leases from (also used by tests and the standalone launcher). */
  pool: ProxyPool | undefined;
  private closing: Promise<void> | undefined;
  /** This process in the fleet's worker list (`GET /v1/admin/lanes`). */
  readonly presence = new WorkerPresence();

  constructor(opts: WorkerAppOptions) {
    this.opts = opts;
    const { concurrency, lanes } = opts.config.worker;
    const slots = lanes.reduce((sum, lane) => sum + concurrency[lane], 0);
    this.dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: Math.max(256, slots) });
    this.extractor = new ProcessExtractor(opts.config.scrape);
  }

  private client(name: string, extra: RedisOptions = {}): RedisClient {
    const { config, logger } = this.opts;
    const onError = (err: Error) => logger.warn({ err: { message: err.message } }, 'redis connection error');
    const redis = createRedis(config.redis, { role: 'worker', name }, onError, extra);
    this.clients.push(redis);
    return redis;
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    // Every job's bookkeeping goes through this client: commands issued in the same tick (many
    // jobs run at once) leave in one write instead of one syscall each.
    // First, so a taken port fails the start before anything connects.
    const { metricsHost, metricsPort } = config.worker;
    this.metricsServer = await startMetricsServer(this.registry, metricsHost, metricsPort);
    const commands = this.client('sy-worker', { enableAutoPipelining: true });
    await whenReady(commands, config.redis.startupWaitMs).catch((err: unknown) => {
      throw redisUnreachable(config, err);
    });
    const metrics = new WorkerMetrics(this.registry, commands);
    const egress = await this.startEgress(commands);
    const w: Wiring = { commands, metrics, ...openStores({ redis: commands, config }) };
    this.outbox = w.outbox;
    const finalState = new FinalState({ ...w, webhooks: w.outbox, logger });
    const { processor, ledgerAhead } = buildProcessor({ ...this.opts, extractor: this.extractor }, w, egress);
    this.ledgerAhead = ledgerAhead;
    this.addLaneWorkers(processor, finalState, commands);
    await this.startCancelListener();
    this.movers.push(...startFairMovers(this.opts.config, commands, this.opts.logger));
    const webhookWorker = this.webhookWorkerFor(w);
    for (const lane of this.workers) void lane.run();
    webhookWorker.run();
    await Promise.all([...this.workers.map((l) => l.waitUntilReady()), webhookWorker.waitUntilReady()]);
    const { concurrency, webhookConcurrency } = config.worker;
    const { port } = this.metricsServer.address() as AddressInfo;
    const metricsUrl = `http://${metricsHost}:${port}/metrics`;
    await this.presence.start({ redis: commands, config, logger, metricsUrl });
    logger.info(
      { lanes: config.worker.lanes, concurrency, webhookConcurrency, metricsUrl },
      'worker started',
    );
  }

  /** The proxy pool (with this config's proxies) and its prober; the router picks it or direct. */
  private async startEgress(commands: RedisClient): Promise<EgressRouter> {
    const { config, logger } = this.opts;
    const pool = new ProxyPool({
      redis: commands,
      prefix: config.redis.prefix,
      interactiveReserve: config.pool.interactiveReserve,
      quarantine: { baseMs: config.pool.quarantineBaseMs },
      pacing: poolPacing(config.pool.pacing),
      metrics: new PoolMetrics({ registry: this.registry }),
      logger,
    });
    this.pool = pool;
    for (const proxy of config.proxies) await pool.upsert(proxy);
    const timeoutOf = (spec: JobSpec, model: string | null) =>
      spec.type === 'scrape' ? config.scrape.timeoutMs : (config.models[model ?? '']?.timeoutMs ?? 60_000);
    this.poolEgress = new PoolEgress({
      pool,
      dispatchers: new ProxyDispatchers(),
      leaseTtlMs: ({ spec, model }) => timeoutOf(spec, model) + config.pool.leaseMarginMs,
    });
    this.prober = new ProxyProber({
      pool,
      probe: config.pool.probeUrl ? createHttpProbe({ url: config.pool.probeUrl }) : connectProbe,
      intervalMs: config.pool.probeIntervalMs,
      logger,
    });
    this.prober.start();
    const direct = new DirectEgress(this.dispatcher);
    return new EgressRouter({ config, direct, pool: this.poolEgress });
  }

  /**
   * One BullMQ Worker per served queue (a lane, or each shard of a sharded batch lane), each with
   * its own concurrency and blocking connection.
   */
  private addLaneWorkers(processor: AttemptProcessor, finalState: FinalState, commands: RedisClient): void {
    const { config, logger } = this.opts;
    const { prefix } = config.redis;
    const counted = this.presence.counted(processor.process);
    // BullMQ hands a processor the job's abort signal (what `cancelJob` aborts) only when the
    // function declares three parameters; the counting wrapper declares none.
    const run = (job: Job<JobData, JobReturn>, token?: string, signal?: AbortSignal) =>
      counted(job, token, signal);
    for (const { lane, shard, name, concurrency } of servedQueues(config)) {
      const worker = new Worker<JobData, JobReturn>(name, run, {
        // The command connection (BullMQ duplicates it for its blocking fetch): the processor's
        // writes and BullMQ's finishing script share it, so Redis applies them in the order sent.
        connection: commands,
        prefix,
        concurrency,
        settings: { backoffStrategy },
        lockDuration: config.worker.lockDurationMs,
        stalledInterval: config.worker.lockDurationMs,
        // BullMQ fails a job stalled more than maxStalledCount times (default 1) behind the retry
        // authority's back; the attempt counter already stops re-runs at the attempt limit
        // ("interrupted on its last allowed attempt"), so BullMQ's own limit is only a backstop.
        maxStalledCount: 100,
        autorun: false,
      });
      worker.on('error', (err) =>
        logger.warn({ lane, shard, err: { message: err.message } }, 'worker error'),
      );
      finalState.watch(worker);
      this.workers.push(worker);
    }
  }

  private async startCancelListener(): Promise<void> {
    const { config, logger } = this.opts;
    this.cancelListener = new CancelListener({
      subscriber: this.client('sy-worker-cancel'),
      prefix: config.redis.prefix,
      onCancel: (jobId) => {
        for (const w of this.workers)
          if (w.cancelJob(jobId, 'canceled')) logger.info({ jobId }, 'aborting canceled job');
      },
    });
    await this.cancelListener.start();
  }

  /** Webhook deliveries: their own queue, concurrency and connection pool. */
  private webhookWorkerFor(w: Wiring): WebhookWorker {
    const { config, logger } = this.opts;
    const { prefix } = config.redis;
    const batchShards = config.lanes.batch.shards;
    const jobs = new JobStore({ redis: w.commands, prefix, ...config.jobs, costs: w.ledger, batchShards });
    this.jobStore = jobs;
    this.webhookWorker = new WebhookWorker({
      connection: this.client('sy-worker-webhooks'),
      redis: w.commands,
      prefix,
      jobs,
      batches: w.batches,
      concurrency: config.worker.webhookConcurrency,
      timeoutMs: config.webhooks.timeoutMs,
      dispatcher: this.webhookDispatcher,
      guard: new TargetGuard({ policy: new TargetPolicy({ ...config.webhooks, section: 'webhooks' }) }),
      logger,
      metrics: w.metrics,
    });
    return this.webhookWorker;
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
      // Abandoned jobs are still this process's until their locks expire: it leaves the list then.
      await this.presence.stop(inTime);
      if (!inTime) {
        logger.warn('grace period over; abandoning unfinished jobs to be re-run elsewhere');
        for (const c of this.clients) c.disconnect();
        this.metricsServer?.close();
        await this.dispatcher.destroy();
        await this.webhookDispatcher.destroy();
        void this.extractor.close().catch(() => undefined);
        return;
      }
      await this.ledgerAhead?.drain(graceMs);
      await Promise.all(this.movers.map((m) => m.stop()));
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
      await this.extractor.close();
      logger.info('worker stopped');
    })();
    return this.closing;
  }
}
