import { ConfigError } from '@switchyard/config';
import { LANES, WEBHOOK_EVENT_TYPES } from '@switchyard/contracts';
import { modelKey, type AttemptEntry, type Ledger, type RecordResult } from '@switchyard/ledger';
import { registerRedisUp, type RedisProbe, type Registry } from '@switchyard/telemetry';
import { createServer, type Server } from 'node:http';
import { Counter, Histogram } from 'prom-client';

/** Why a webhook event is given up (`switchyard_webhooks_given_up_total{reason}`). */
export const WEBHOOK_GIVE_UP_REASONS = [
  'attempts_exhausted',
  'no_secret',
  'expired',
  'target_forbidden',
] as const;
export type WebhookGiveUpReason = (typeof WEBHOOK_GIVE_UP_REASONS)[number];

/** Per-attempt metrics of this worker process. */
export class WorkerMetrics {
  readonly attempts: Counter<'lane' | 'kind' | 'model' | 'outcome'>;
  readonly attemptSeconds: Histogram<'lane' | 'kind' | 'model' | 'outcome'>;
  readonly retryBudget: Counter<'lane' | 'result'>;
  readonly costUsd: Counter<'tenant' | 'model'>;
  readonly delayedForEgress: Counter<'lane' | 'reason'>;
  readonly delayedForHost: Counter<'lane' | 'reason'>;
  readonly robotsFetches: Counter<'result'>;
  readonly webhookAttempts: Counter<'type' | 'outcome'>;
  readonly webhooksGivenUp: Counter<'type' | 'reason'>;

  /** Registers them on `registry`, with `switchyard_redis_up` for the process's `redis` client. */
  constructor(registry: Registry, redis: RedisProbe) {
    const registers = [registry];
    registerRedisUp(registry, redis);
    this.attempts = new Counter({
      name: 'switchyard_attempts_total',
      help: 'Upstream attempts by lane, job kind, model (the configured name; `(scrape)` for scrapes) and outcome class',
      labelNames: ['lane', 'kind', 'model', 'outcome'],
      registers,
    });
    this.attemptSeconds = new Histogram({
      name: 'switchyard_attempt_duration_seconds',
      help: 'Duration of upstream attempts by lane, job kind, model (`(scrape)` for scrapes) and outcome class',
      labelNames: ['lane', 'kind', 'model', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.retryBudget = new Counter({
      name: 'switchyard_retry_budget_decisions_total',
      help: 'Retries and fallbacks asked of the retry budgets (per upstream, per tenant share), by lane and answer: allowed, or refused (the budget is spent and the job fails with retry_budget_exhausted)',
      labelNames: ['lane', 'result'],
      registers,
    });
    this.costUsd = new Counter({
      name: 'switchyard_cost_usd_total',
      help: 'USD of the attempts this worker wrote to the ledger, by tenant and model (`(scrape)` for scrapes), for dashboards (the ledger has the exact nano-USD); one series per tenant and model used, so its cardinality follows the tenant count',
      labelNames: ['tenant', 'model'],
      registers,
    });
    this.delayedForEgress = new Counter({
      name: 'switchyard_jobs_delayed_no_egress_total',
      help: 'Jobs delayed because the proxy pool had no capacity (not upstream rate limiting)',
      labelNames: ['lane', 'reason'],
      registers,
    });
    this.delayedForHost = new Counter({
      name: 'switchyard_scrapes_delayed_for_host_total',
      help: 'Scrapes delayed (no attempt spent) by per-host politeness: interval, concurrency, paused (Retry-After), robots_unreachable, robots_proxy_fault',
      labelNames: ['lane', 'reason'],
      registers,
    });
    this.robotsFetches = new Counter({
      name: 'switchyard_robots_fetches_total',
      help: 'robots.txt fetches for the fleet by result: rules, allow_all (4xx), unreachable (5xx, 429), or the failure outcome',
      labelNames: ['result'],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'switchyard_webhook_attempts_total',
      help: 'Webhook delivery attempts by event type and outcome (delivered, http_error, network_error, target_forbidden)',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.webhooksGivenUp = new Counter({
      name: 'switchyard_webhooks_given_up_total',
      help: 'Webhook events not delivered: attempts spent, no tenant secret, the subject expired, or a forbidden receiver',
      labelNames: ['type', 'reason'],
      registers,
    });
    // The counters alerts fire on start at 0: Prometheus's increase() cannot see the first event
    // of a series that appears with it.
    for (const lane of LANES)
      for (const result of ['allowed', 'refused']) this.retryBudget.inc({ lane, result }, 0);
    for (const type of WEBHOOK_EVENT_TYPES)
      for (const reason of WEBHOOK_GIVE_UP_REASONS) this.webhooksGivenUp.inc({ type, reason }, 0);
  }
}

/**
 * The ledger as the processor writes to it, counting what each new entry cost in
 * `switchyard_cost_usd_total{tenant,model}`. Only entries the ledger answers `recorded` count, so a
 * replayed write (a re-run, a retried script call) is counted once, as it is billed once.
 */
export class MeteredLedger implements Pick<Ledger, 'record'> {
  readonly #ledger: Pick<Ledger, 'record'>;
  readonly #metrics: WorkerMetrics;

  constructor(ledger: Pick<Ledger, 'record'>, metrics: WorkerMetrics) {
    this.#ledger = ledger;
    this.#metrics = metrics;
  }

  async record(entry: AttemptEntry, opts?: { savedNanos?: number }): Promise<RecordResult> {
    const result = await this.#ledger.record(entry, opts);
    if (result.status === 'recorded' && entry.costNanos > 0) {
      this.#metrics.costUsd.inc({ tenant: entry.tenantId, model: modelKey(entry) }, entry.costNanos / 1e9);
    }
    return result;
  }
}

/** A tiny HTTP server for Prometheus: GET /metrics, nothing else. */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `worker.metricsPort: ${host}:${port} is already in use (another worker on this host?); ` +
                'set another port, or 0 for any free one',
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}
