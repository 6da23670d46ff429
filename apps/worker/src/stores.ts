import { attemptTtlSeconds, type Config } from '@switchyard/config';
import { Ledger } from '@switchyard/ledger';
import { TenantLoad } from '@switchyard/admission';
import { BatchStore } from '@switchyard/batches';
import { FailureLog } from '@switchyard/jobs';
import { WebhookOutbox } from '@switchyard/webhooks';
import type { Cluster, Redis } from 'ioredis';

/** The Redis-backed stores a worker writes jobs' bookkeeping to. */
export interface WorkerStores {
  /** One entry per attempt, and each job's total cost. */
  ledger: Ledger;
  /** Webhook events waiting for delivery. */
  outbox: WebhookOutbox;
  /** Counts and cost of each batch's finished jobs. */
  batches: BatchStore;
  /** Per-tenant limits on jobs queued and in flight. */
  load: TenantLoad;
  /** The last jobs that failed for good (the ops page). */
  failures: FailureLog;
}

export function openStores(opts: { redis: Redis | Cluster; config: Config }): WorkerStores {
  const { redis, config } = opts;
  const { prefix } = config.redis;
  const { retentionSeconds } = config.jobs;
  const entryTtlSeconds = attemptTtlSeconds(config);
  const ledger = new Ledger({ redis, prefix, entryTtlSeconds });
  const outbox = new WebhookOutbox({ redis, prefix, ...config.webhooks, retentionSeconds });
  const batches = new BatchStore({ redis, prefix, retentionSeconds, webhooks: outbox });
  const load = new TenantLoad({ redis, prefix, limits: config.limits });
  const failures = new FailureLog({ redis, prefix });
  return { ledger, outbox, batches, load, failures };
}
