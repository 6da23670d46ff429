import type { JobStore } from '@switchyard/jobs';
import {
  WEBHOOK_SECRET_FIELD,
  webhookKeys,
  type WebhookDelivery,
  type WebhookKeys,
} from '@switchyard/webhooks';
import { viewOfBatch, type BatchRecord, type BatchView, type JobRecord } from '@switchyard/contracts';
import { TargetForbiddenError, type PinnedTarget, type TargetGuard } from '@switchyard/scrape';
import type { Logger } from '@switchyard/telemetry';
import { Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { WebhookGiveUpReason, WorkerMetrics } from './metrics.ts';
import { failureCode, postWebhook } from './webhook-sender.ts';

/** A delivery attempt that did not get a 2xx; BullMQ retries it with backoff. */
export class WebhookAttemptError extends Error {
  readonly status: number | undefined;
  constructor(status: number | undefined, cause: string) {
    super(
      status === undefined
        ? `webhook receiver unreachable (${cause})`
        : `webhook receiver answered ${status}`,
    );
    this.name = 'WebhookAttemptError';
    this.status = status;
  }
}

export interface WebhookWorkerOptions {
  /** A blocking connection of the Worker's own. */
  connection: Redis | Cluster;
  /** Commands: tenant secrets, job and batch reads. */
  redis: Redis | Cluster;
  /** The deployment's key prefix (`redis.prefix`), the queue's BullMQ prefix. */
  prefix: string;
  jobs: Pick<JobStore, 'find'>;
  batches: { get(tenantId: string, batchId: string): Promise<BatchRecord | undefined> };
  concurrency: number;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** The SSRF guard for receivers (`webhooks.allowCidrs`/`allowPorts`): checked and pinned per attempt. */
  guard: TargetGuard;
  logger: Logger;
  metrics?: WorkerMetrics;
}

/** What a log line says about a delivery: ids only, never the URL, body or secret. */
function ids(d: WebhookDelivery) {
  const subject = d.type === 'job.finished' ? { jobId: d.subjectId } : { batchId: d.subjectId };
  return { eventId: d.eventId, type: d.type, ...subject };
}

/**
 * Delivers webhook events from their own BullMQ queue with its own small concurrency, apart from
 * the lanes: a slow or dead receiver holds a delivery slot, never a job slot. Each attempt reads
 * the tenant's current secret and the subject's record, signs, POSTs; a non-2xx answer or a
 * network error throws and BullMQ retries with exponential backoff until attempts run out.
 */
export class WebhookWorker {
  readonly worker: Worker<WebhookDelivery>;
  private readonly opts: WebhookWorkerOptions;
  private readonly keys: WebhookKeys;

  constructor(opts: WebhookWorkerOptions) {
    this.opts = opts;
    this.keys = webhookKeys(opts.prefix);
    this.worker = new Worker<WebhookDelivery>(this.keys.queueName, (job) => this.deliver(job), {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      autorun: false,
    });
    const { logger } = opts;
    this.worker.on('error', (err) => logger.warn({ err: { message: err.message } }, 'webhook worker error'));
    this.worker.on('failed', (job, err) => {
      if (!job?.finishedOn) return; // set on the last attempt only
      const status = err instanceof WebhookAttemptError ? err.status : undefined;
      opts.metrics?.webhooksGivenUp.inc({ type: job.data.type, reason: 'attempts_exhausted' });
      logger.error({ ...ids(job.data), attempt: job.attemptsMade, status }, 'webhook delivery given up');
    });
  }

  run(): void {
    void this.worker.run();
  }

  waitUntilReady(): Promise<unknown> {
    return this.worker.waitUntilReady();
  }

  close(): Promise<void> {
    return this.worker.close();
  }

  private drop(d: WebhookDelivery, reason: WebhookGiveUpReason, message: string): void {
    this.opts.metrics?.webhooksGivenUp.inc({ type: d.type, reason });
    this.opts.logger.warn(ids(d), message);
  }

  private async deliver(job: Job<WebhookDelivery>): Promise<void> {
    const { redis, logger, metrics } = this.opts;
    const d = job.data;
    const attempt = job.attemptsMade + 1;
    const secret = await redis.hget(this.keys.tenant(d.tenantId), WEBHOOK_SECRET_FIELD);
    if (!secret) return this.drop(d, 'no_secret', 'webhook dropped: the tenant has no webhook secret');
    const batch =
      d.type === 'batch.completed' ? await this.opts.batches.get(d.tenantId, d.subjectId) : undefined;
    // The batch as GET /v1/batches/{id} answers it.
    const data: JobRecord | BatchView | undefined =
      d.type === 'job.finished'
        ? await this.opts.jobs.find(d.tenantId, d.subjectId)
        : batch && viewOfBatch(batch);
    if (!data) return this.drop(d, 'expired', 'webhook dropped: its job or batch is past retention');
    const body = JSON.stringify({
      id: d.eventId,
      type: d.type,
      created_at: new Date(d.createdAt).toISOString(),
      data,
    });
    // Resolved and checked at every attempt (DNS may change between them), and the connection
    // pinned to the checked address. A forbidden receiver is dropped, never retried.
    let target: PinnedTarget;
    try {
      target = await this.opts.guard.check(new URL(d.url));
    } catch (err) {
      if (err instanceof TargetForbiddenError) {
        metrics?.webhookAttempts.inc({ type: d.type, outcome: 'target_forbidden' });
        return this.drop(d, 'target_forbidden', `webhook dropped: ${err.message}`);
      }
      const cause = failureCode(err);
      metrics?.webhookAttempts.inc({ type: d.type, outcome: 'network_error' });
      logger.warn({ ...ids(d), attempt, cause }, 'webhook attempt failed');
      throw new WebhookAttemptError(undefined, cause);
    }
    let status: number;
    try {
      status = await postWebhook({
        url: target.connectUrl.href,
        host: target.host,
        eventId: d.eventId,
        body,
        secret,
        timeoutMs: this.opts.timeoutMs,
        dispatcher: this.opts.dispatcher,
      });
    } catch (err) {
      const cause = failureCode(err);
      metrics?.webhookAttempts.inc({ type: d.type, outcome: 'network_error' });
      logger.warn({ ...ids(d), attempt, cause }, 'webhook attempt failed');
      throw new WebhookAttemptError(undefined, cause);
    }
    if (status >= 200 && status < 300) {
      metrics?.webhookAttempts.inc({ type: d.type, outcome: 'delivered' });
      logger.info({ ...ids(d), attempt, status }, 'webhook delivered');
      return;
    }
    metrics?.webhookAttempts.inc({ type: d.type, outcome: 'http_error' });
    logger.warn({ ...ids(d), attempt, status }, 'webhook attempt failed');
    throw new WebhookAttemptError(status, 'http');
  }
}
