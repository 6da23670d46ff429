import type { WebhookEventType } from '@switchyard/contracts';
import type { JobData } from '@switchyard/jobs';
import { Queue, type JobsOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { webhookKeys } from './keys.ts';

/**
 * A BullMQ job of the webhooks queue: one event to deliver. It names its subject rather than
 * carrying it, so the payload is read when it is sent and the secret never sits in job data.
 */
export interface WebhookDelivery {
  v: 1;
  eventId: string;
  type: WebhookEventType;
  tenantId: string;
  /** The job id (`job.finished`) or batch id (`batch.completed`). */
  subjectId: string;
  url: string;
  /** Epoch ms when the event happened (the first report of it). */
  createdAt: number;
}

/**
 * The event id, which is also the delivery's BullMQ job id: the same subject always yields the
 * same id, so a repeated report of one event enqueues nothing. The subject's creation time keeps
 * a later job under a reused id (an Idempotency-Key after its window) from sharing the event id.
 */
export function webhookEventId(type: WebhookEventType, subjectId: string, subjectCreatedAt: number): string {
  const digest = createHash('sha256').update(`${type}\0${subjectId}\0${subjectCreatedAt}`).digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

export interface WebhookOutboxOptions {
  redis: Redis | Cluster;
  /** The deployment's key prefix (`redis.prefix`), the queue's BullMQ prefix. */
  prefix: string;
  /** Delivery attempts per event, first included. */
  maxAttempts: number;
  /** First retry delay; exponential after it. */
  backoffMs: number;
  /** Delivered and given-up deliveries are kept this long (and dedupe repeats meanwhile). */
  retentionSeconds: number;
}

/** Enqueues webhook events on their own BullMQ queue; a worker-side WebhookWorker sends them. */
export class WebhookOutbox {
  readonly queue: Queue<WebhookDelivery>;
  private readonly options: JobsOptions;

  constructor(opts: WebhookOutboxOptions) {
    this.queue = new Queue<WebhookDelivery>(webhookKeys(opts.prefix).queueName, {
      connection: opts.redis,
      prefix: opts.prefix,
    });
    this.queue.on('error', () => undefined); // surfaces on the add that hits it
    this.options = {
      attempts: opts.maxAttempts,
      backoff: { type: 'exponential', delay: opts.backoffMs, jitter: 0.2 },
      removeOnComplete: { age: opts.retentionSeconds },
      removeOnFail: { age: opts.retentionSeconds },
    };
  }

  /**
   * A job reached its final state (BullMQ's `finishedOn`, when given, dates the event); returns
   * the event id, or undefined when the job names no webhook.
   */
  async jobFinished(
    job: { id?: string; data: JobData; finishedOn?: number },
    now = Date.now(),
  ): Promise<string | undefined> {
    const url = job.data.spec.webhook?.url;
    if (!url || !job.id) return undefined;
    const eventId = webhookEventId('job.finished', job.id, job.data.submittedAt);
    const delivery: WebhookDelivery = {
      v: 1,
      eventId,
      type: 'job.finished',
      tenantId: job.data.tenantId,
      subjectId: job.id,
      url,
      createdAt: job.finishedOn ?? now,
    };
    await this.queue.add(delivery.type, delivery, { ...this.options, jobId: eventId });
    return eventId;
  }

  /** Every job of a batch has finished. */
  async batchCompleted(
    batch: { tenantId: string; batchId: string; url: string; createdAt: number },
    now = Date.now(),
  ): Promise<string> {
    const eventId = webhookEventId('batch.completed', batch.batchId, batch.createdAt);
    const delivery: WebhookDelivery = {
      v: 1,
      eventId,
      type: 'batch.completed',
      tenantId: batch.tenantId,
      subjectId: batch.batchId,
      url: batch.url,
      createdAt: now,
    };
    await this.queue.add(delivery.type, delivery, { ...this.options, jobId: eventId });
    return eventId;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
