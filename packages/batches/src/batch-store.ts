import type { TenantLoad } from '@switchyard/admission';
import {
  costFromNanos,
  isBatchFinished,
  MAX_TIMEOUT_MS,
  SwitchyardError,
  type LineRejection,
} from '@switchyard/contracts';
import type { JobStore } from '@switchyard/jobs';
import type { WebhookOutbox } from '@switchyard/webhooks';
import type { Cluster, Redis } from 'ioredis';
import { idempotentBatchId, isBatchId, newBatchId } from './batch-ids.ts';
import {
  toBatchRecord,
  type BatchJobOutcome,
  type BatchRecord,
  type BatchResultLine,
} from './batch-record.ts';
import { BatchWriter } from './batch-writer.ts';
import { batchKeys, type BatchKeys } from './keys.ts';
import { newestFirst, type Page } from './newest-first.ts';
import { defineScripts, type ScriptRunner } from './scripts.ts';

export interface BatchStoreOptions {
  redis: Redis | Cluster;
  /** The deployment's key prefix (`redis.prefix`). */
  prefix: string;
  /** Finished jobs are kept this long; a batch record outlives its last job by as much. */
  retentionSeconds: number;
  /**
   * Needed to submit and read batches (the API); recording finished jobs (the worker) needs none.
   * Its settings and fair share apply to batch lines as to single jobs.
   */
  jobs?: JobStore;
  /** Deadline of a batch line without `timeout_ms` (default 24 h: a batch may wait its turn). */
  batchTimeoutMs?: number;
  /** Where `batch.completed` events go when a batch with a webhook completes. */
  webhooks?: Pick<WebhookOutbox, 'batchCompleted'>;
  /** Per-tenant job limits: a batch's jobs count against them once enqueued. */
  load?: Pick<TenantLoad, 'track'>;
}

export interface OpenBatchOptions {
  idempotencyKey?: string;
  /** The batch's own webhook (`batch.completed`); part of what an Idempotency-Key replay compares. */
  webhookUrl?: string;
  /** No line's deadline is later than this (epoch ms): a file batch's completion window. */
  deadlineAt?: number;
}

/** What a batch created from an uploaded file (OpenAI's Batch API) records before its lines. */
export interface FileBatchMeta {
  inputFileId: string;
  /** As the client sent it (`24h`). */
  completionWindow: string;
  metadata: Record<string, string> | null;
  createdAt: number;
  /** createdAt + the window (epoch ms). */
  expiresAt: number;
}

const FINAL_STATUSES = new Set(['completed', 'failed', 'expired']);
const ignoreFinished = (err: unknown) => {
  if (err instanceof SwitchyardError && (err.code === 'job_finished' || err.code === 'not_found')) return;
  throw err;
};
/** Jobs cancelled at once when a batch is cancelled. */
const CANCEL_CONCURRENCY = 64;

const GONE = { code: 'not_found', message: 'the job is past its retention period' };
const EXPIRED = { status: 'expired', result: null, error: GONE, cost: costFromNanos(0) } as const;

/**
 * Batches of jobs: one record per batch (counts, cost, the job ids in line order) beside the
 * jobs themselves, which are ordinary BullMQ jobs carrying `batch: { id, customId }`.
 */
export class BatchStore {
  private readonly opts: BatchStoreOptions;
  private readonly keys: BatchKeys;
  private readonly run: ScriptRunner;

  constructor(opts: BatchStoreOptions) {
    this.opts = opts;
    this.keys = batchKeys(opts.prefix);
    this.run = defineScripts(opts.redis);
  }

  private get jobs(): JobStore {
    if (!this.opts.jobs) throw new Error('BatchStore: built without a JobStore');
    return this.opts.jobs;
  }

  /**
   * Starts receiving a batch. With an Idempotency-Key the batch id derives from tenant and key; a
   * batch already finalized under it is a replay: its lines are validated but nothing is enqueued.
   */
  async open(tenantId: string, options: OpenBatchOptions = {}): Promise<BatchWriter> {
    const { idempotencyKey, webhookUrl, deadlineAt } = options;
    const { redis, prefix, retentionSeconds, load } = this.opts;
    const batchId = idempotencyKey === undefined ? newBatchId() : idempotentBatchId(tenantId, idempotencyKey);
    const key = this.keys.batch(tenantId, batchId).batch;
    const replayOf = idempotencyKey === undefined ? null : await redis.hget(key, 'fp');
    const deps = {
      redis,
      prefix,
      jobs: this.jobs,
      load,
      retentionSeconds,
      batchTimeoutMs: this.opts.batchTimeoutMs ?? MAX_TIMEOUT_MS,
      run: this.run,
      index: { key: this.keys.index(tenantId), ttlSeconds: this.indexedSeconds() },
      deadlineAt,
      read: () => this.get(tenantId, batchId),
      announceIfCompleted: (batch: BatchRecord) => this.announceIfCompleted(tenantId, batch),
    };
    return new BatchWriter(deps, { tenantId, batchId }, replayOf, webhookUrl);
  }

  /**
   * Records a file batch's OpenAI fields before its lines are read, so it reads `validating` (and
   * lists) meanwhile. Kept as long as its jobs may live.
   */
  async markFromFile(tenantId: string, batchId: string, meta: FileBatchMeta): Promise<void> {
    const key = this.keys.batch(tenantId, batchId).batch;
    const ttl = this.fileBatchTtl(meta);
    await this.opts.redis
      .multi()
      .hset(key, {
        oa_file: meta.inputFileId,
        oa_window: meta.completionWindow,
        oa_created: meta.createdAt,
        oa_expires: Math.floor(meta.expiresAt / 1000),
        ...(meta.metadata ? { oa_meta: JSON.stringify(meta.metadata) } : {}),
      })
      .expire(key, ttl)
      .zadd(this.keys.index(tenantId), meta.createdAt, batchId)
      .expire(this.keys.index(tenantId), this.indexedSeconds())
      .exec();
  }

  /** Keeps every rejected line of a file batch, for its error file. */
  async storeRejections(tenantId: string, batchId: string, meta: FileBatchMeta, lines: LineRejection[]) {
    const key = this.keys.batch(tenantId, batchId).rejected;
    for (let i = 0; i < lines.length; i += 1000) {
      const chunk = lines.slice(i, i + 1000).map((l) => JSON.stringify(l));
      await this.opts.redis
        .multi()
        .rpush(key, ...chunk)
        .expire(key, this.fileBatchTtl(meta))
        .exec();
    }
  }

  /** Rejected lines of a file batch at positions [from, from + n). */
  async rejectedPage(tenantId: string, batchId: string, from: number, n: number): Promise<LineRejection[]> {
    const key = this.keys.batch(tenantId, batchId).rejected;
    const raw = await this.opts.redis.lrange(key, from, from + n - 1);
    return raw.map((l) => JSON.parse(l) as LineRejection);
  }

  private fileBatchTtl(meta: FileBatchMeta): number {
    return this.opts.retentionSeconds + Math.ceil((meta.expiresAt - Date.now()) / 1000);
  }

  /** The tenant's batches, newest first (OpenAI's `after` cursor and `limit`). */
  async list(tenantId: string, opts: { after?: string; limit: number }): Promise<Page<BatchRecord>> {
    const index = this.keys.index(tenantId);
    await this.opts.redis.zremrangebyscore(index, '-inf', `(${Date.now() - this.indexedSeconds() * 1000}`);
    return newestFirst(this.opts.redis, index, opts, (id) => this.get(tenantId, id));
  }

  /**
   * How long (s) a batch can be listed: no batch record outlives its creation by more than its
   * longest deadline plus the retention period (a job finishing at its deadline keeps it that long).
   */
  indexedSeconds(): number {
    return this.opts.retentionSeconds + Math.ceil((this.opts.batchTimeoutMs ?? MAX_TIMEOUT_MS) / 1000) + 3600;
  }

  /**
   * Cancels the batch's unfinished jobs (each as `DELETE /v1/jobs/{id}` would); the batch reads
   * `cancelling` until the workers have stopped them all, then `cancelled`. Cancelling again is
   * harmless; a batch that already finished is `batch_finished`. Undefined when there is no batch.
   */
  async cancel(tenantId: string, batchId: string): Promise<BatchRecord | undefined> {
    const before = await this.get(tenantId, batchId);
    if (!before) return undefined;
    if (FINAL_STATUSES.has(before.status)) {
      throw new SwitchyardError('batch_finished', `batch ${batchId} already ${before.status}`);
    }
    const k = this.keys.batch(tenantId, batchId);
    await this.opts.redis.hsetnx(k.batch, 'cancel_at', Math.floor(Date.now() / 1000));
    for (let from = 0; ; from += 500) {
      const entries = await this.opts.redis.lrange(k.jobs, from, from + 499);
      if (!entries.length) break;
      const ids = entries.map((e) => e.slice(0, e.indexOf(' ')));
      const done = await this.opts.redis.hmget(k.done, ...ids);
      const open = ids.filter((_, i) => done[i] === null);
      for (let i = 0; i < open.length; i += CANCEL_CONCURRENCY) {
        const some = open.slice(i, i + CANCEL_CONCURRENCY);
        // A job that finished meanwhile (or expired) has nothing left to cancel.
        await Promise.all(some.map((id) => this.jobs.cancel(tenantId, id).catch(ignoreFinished)));
      }
    }
    return this.get(tenantId, batchId);
  }

  /** The batch, or undefined when it does not exist (or is another tenant's, or never finished). */
  async get(tenantId: string, batchId: string): Promise<BatchRecord | undefined> {
    if (!isBatchId(batchId)) return undefined;
    const h = await this.opts.redis.hgetall(this.keys.batch(tenantId, batchId).batch);
    return toBatchRecord(batchId, h);
  }

  /**
   * Enqueues the batch's `batch.completed` event when it has a webhook and every job finished.
   * Safe to call more than once (the event id is fixed): the worker counting the last job and the
   * API finalizing a batch whose jobs all finished first may both see it complete.
   */
  async announceIfCompleted(tenantId: string, batch: BatchRecord): Promise<void> {
    // Every job has finished: completed, or cancelled, failed or expired.
    if (!isBatchFinished(batch.status) || !batch.webhook || !this.opts.webhooks) return;
    const createdAt = Date.parse(batch.created_at);
    await this.opts.webhooks.batchCompleted({
      tenantId,
      batchId: batch.id,
      url: batch.webhook.url,
      createdAt,
    });
  }

  /** Results of the jobs at positions [from, from + n) in line order, read in parallel. */
  async resultsPage(tenantId: string, batchId: string, from: number, n: number): Promise<BatchResultLine[]> {
    const k = this.keys.batch(tenantId, batchId);
    const entries = await this.opts.redis.lrange(k.jobs, from, from + n - 1);
    return Promise.all(
      entries.map(async (entry): Promise<BatchResultLine> => {
        const space = entry.indexOf(' ');
        const [jobId, customId] = [entry.slice(0, space), entry.slice(space + 1)];
        const { status, result, error, cost } = (await this.jobs.find(tenantId, jobId)) ?? EXPIRED;
        return { custom_id: customId, job_id: jobId, status, result, error, cost };
      }),
    );
  }

  /**
   * Counts a finished job of the batch (the worker calls this once a job reaches its final state).
   * Idempotent per job: a repeated call changes nothing and returns false. Counting the last job
   * of a finalized batch announces its completion (`batch.completed`, when it has a webhook).
   */
  async recordFinished(
    tenantId: string,
    batchId: string,
    jobId: string,
    status: BatchJobOutcome,
    costNanos: number,
  ): Promise<boolean> {
    if (!Number.isSafeInteger(costNanos) || costNanos < 0) {
      throw new RangeError(`costNanos must be a non-negative integer, got ${costNanos}`);
    }
    const k = this.keys.batch(tenantId, batchId);
    const now = Math.floor(Date.now() / 1000);
    const args = [jobId, status, String(costNanos), this.opts.retentionSeconds, now];
    const counted = Number(await this.run('batch-finished', [k.batch, k.done, k.jobs], args));
    if (counted === 2 && this.opts.webhooks) {
      const batch = await this.get(tenantId, batchId);
      if (batch) await this.announceIfCompleted(tenantId, batch);
    }
    return counted >= 1;
  }
}
