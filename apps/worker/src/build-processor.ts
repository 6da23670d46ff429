import { attemptTtlSeconds, type Config } from '@switchyard/config';
import { LaneDelays } from '@switchyard/jobs';
import type { Logger } from '@switchyard/telemetry';
import { Cluster, type Redis } from 'ioredis';
import { AttemptProcessor } from './attempt/processor.ts';
import { AttemptState } from './attempt-state.ts';
import { CancelFlags } from './cancel-flags.ts';
import { CompletionCache } from './completion-cache.ts';
import { DeltaRelays } from './delta-relay.ts';
import type { EgressRouter } from './egress-router.ts';
import type { ProcessExtractor } from './executors/scrape.ts';
import { LedgerAhead } from './ledger-ahead.ts';
import { MeteredLedger, type WorkerMetrics } from './metrics.ts';
import { ScrapePoliteness } from './politeness.ts';
import { RetryBudget } from './retry-budget.ts';
import { ScrapeCache } from './scrape-cache.ts';
import type { WorkerStores } from './stores.ts';
import { Upstreams } from './upstreams.ts';

/**
 * The processor's collaborators, all on the worker's one command connection (the lanes' BullMQ
 * workers use it too, so a ledger write sent ahead precedes the job's completion on one Redis).
 */
export function buildProcessor(
  opts: {
    config: Config;
    logger: Logger;
    secrets: Record<string, string | undefined>;
    extractor: ProcessExtractor;
  },
  w: WorkerStores & { commands: Redis | Cluster; metrics: WorkerMetrics },
  egress: EgressRouter,
): { processor: AttemptProcessor; ledgerAhead: LedgerAhead } {
  const { config, logger, secrets, extractor } = opts;
  const { commands: redis } = w;
  const { prefix } = config.redis;
  const ledger = new MeteredLedger(w.ledger, w.metrics);
  const ledgerAhead = new LedgerAhead({ ledger, logger });
  const processor = new AttemptProcessor({
    logger,
    policy: { maxAttempts: config.jobs.maxAttempts, backoffMs: config.jobs.backoffMs },
    upstreams: new Upstreams({ config, secrets, extractor }),
    egress,
    cancels: new CancelFlags({ redis, prefix }),
    attempts: new AttemptState({ redis, prefix, ttlSeconds: attemptTtlSeconds(config) }),
    budget: new RetryBudget({
      redis,
      prefix,
      ...config.jobs.retryBudget,
      onError: (err) => logger.warn({ err }, 'retry budget unavailable'),
    }),
    ledger,
    // Ahead only where one connection carries both the ledger write and BullMQ's finish (ADR 24):
    // on a cluster they go to different nodes, so the write is awaited (ADR 25).
    ledgerAhead: redis instanceof Cluster ? undefined : ledgerAhead,
    load: w.load,
    relays: new DeltaRelays({ redis, prefix }),
    metrics: w.metrics,
    delays: new LaneDelays({ redis, prefix }),
    politeness: new ScrapePoliteness({
      redis,
      prefix,
      scrape: config.scrape,
      leaseMarginMs: config.pool.leaseMarginMs,
      logger,
    }),
    scrapeCache: new ScrapeCache({ redis, prefix, maxTtlSeconds: config.scrape.cache.maxTtlSeconds }),
    completionCache: new CompletionCache({ redis, prefix, models: config.models }),
  });
  return { processor, ledgerAhead };
}
