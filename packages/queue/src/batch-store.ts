import { defineLuaScript, loadLuaScript, luaDir } from '@switchyard/lua-scripts';
import {
  costFromNanos,
  MAX_TIMEOUT_MS,
  type Cost,
  type JobRecord,
  type JobStatus,
} from '@switchyard/contracts';
import type { Redis } from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';
import { batchKeys, BatchWriter, type ScriptCall, type WriterContext } from './batch-writer.ts';
import type { HeldJob } from './fair-share.ts';
import type { JobStore } from './job-store.ts';
import type { Keys } from './keys.ts';
import type { TenantLoad } from './tenant-load.ts';
import type { WebhookOutbox } from './webhook-outbox.ts';

export { BATCH_CHUNK_SIZE, BatchWriter } from './batch-writer.ts';

const LUA_DIR = luaDir('queue', import.meta.url);

const SCRIPTS = {
  finalize: { command: 'switchyardBatchFinalize', file: 'batch-finalize-4.lua' },
  finished: { command: 'switchyardBatchFinished', file: 'batch-finished-3.lua' },
} as const;

export type BatchJobOutcome = 'succeeded' | 'failed' | 'canceled';

/** The public view of a batch (`GET /v1/batches/{id}`). */
export interface BatchRecord {
  id: string;
  object: 'batch';
  status: 'in_progress' | 'completed';
  counts: Record<'total' | 'accepted' | 'rejected' | 'queued_or_running' | BatchJobOutcome, number>;
  cost: Cost;
  created_at: string;
  /** Where the `batch.completed` event goes (`POST /v1/batches?webhook_url=`). */
  webhook: { url: string } | null;
}

/** One line of `GET /v1/batches/{id}/results`. A job past its retention reads `expired`. */
export type BatchResultLine = Pick<JobRecord, 'result' | 'error' | 'cost'> & {
  custom_id: string;
  job_id: string;
  status: JobStatus | 'expired';
};

export interface BatchStoreOptions {
  redis: Redis;
  keys: Keys;
  /** Finished jobs are kept this long; a batch record outlives its last job by as much. */
  retentionSeconds: number;
  /** Needed to submit and read batches (the API); recording finished jobs (the worker) needs none. */
  jobs?: JobStore;
  maxAttempts?: number;
  backoffMs?: number;
  /** Deadline of a batch line without `timeout_ms` (default 24 h: a batch may wait its turn). */
  batchTimeoutMs?: number;
  /** Batch-lane fair share (a `FairShare`): jobs wait delayed until its mover releases them. */
  fair?: { hold(tenantId: string, jobs: HeldJob[]): Promise<unknown> };
  /** Where `batch.completed` events go when a batch with a webhook completes. */
  webhooks?: WebhookOutbox;
  /** Per-tenant job limits: a batch's jobs count against them once enqueued. */
  load?: TenantLoad;
}

export interface OpenBatchOptions {
  idempotencyKey?: string;
  /** The batch's own webhook (`batch.completed`); part of what an Idempotency-Key replay compares. */
  webhookUrl?: string;
}

export const isBatchId = (id: string) => /^bt_[0-9a-fk]{20,48}$/.test(id);

/** The batch an Idempotency-Key names: the same tenant and key always name the same batch. */
export function idempotentBatchId(tenantId: string, key: string): string {
  return `bt_k${createHash('sha256').update(`${tenantId}\0batch\0${key}`).digest('hex').slice(0, 40)}`;
}

export function newBatchId(): string {
  return `bt_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

const num = (v: string | undefined) => Number(v ?? 0);
const GONE = { code: 'not_found', message: 'the job is past its retention period' };
const EXPIRED = { status: 'expired', result: null, error: GONE, cost: costFromNanos(0) } as const;

/**
 * Batches of jobs: one record per batch (counts, cost, the job ids in line order) beside the
 * jobs themselves, which are ordinary BullMQ jobs carrying `batch: { id, customId }`.
 */
export class BatchStore {
  private readonly opts: BatchStoreOptions;
  private readonly scripts: Record<keyof typeof SCRIPTS, ScriptCall>;

  constructor(opts: BatchStoreOptions) {
    this.opts = opts;
    const { redis } = opts;
    const define = (s: (typeof SCRIPTS)[keyof typeof SCRIPTS]): ScriptCall =>
      defineLuaScript(redis, s.command, loadLuaScript(LUA_DIR, s.file)) as ScriptCall;
    this.scripts = { finalize: define(SCRIPTS.finalize), finished: define(SCRIPTS.finished) };
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
    const { idempotencyKey, webhookUrl } = options;
    const batchId = idempotencyKey === undefined ? newBatchId() : idempotentBatchId(tenantId, idempotencyKey);
    const k = batchKeys(this.opts.keys, tenantId, batchId);
    const replayOf = idempotencyKey === undefined ? null : await this.opts.redis.hget(k.batch, 'fp');
    const ctx: WriterContext = {
      opts: this.opts,
      jobs: this.jobs,
      finalize: this.scripts.finalize,
      batchTimeoutMs: this.opts.batchTimeoutMs ?? MAX_TIMEOUT_MS,
      get: (t, b) => this.get(t, b),
      announceIfCompleted: (t, b) => this.announceIfCompleted(t, b),
    };
    return new BatchWriter(ctx, tenantId, batchId, replayOf, webhookUrl);
  }

  /** The batch, or undefined when it does not exist (or is another tenant's, or never finished). */
  async get(tenantId: string, batchId: string): Promise<BatchRecord | undefined> {
    if (!isBatchId(batchId)) return undefined;
    const h = await this.opts.redis.hgetall(batchKeys(this.opts.keys, tenantId, batchId).batch);
    if (!h.fp) return undefined;
    const accepted = num(h.accepted);
    const [succeeded, failed, canceled] = [num(h.succeeded), num(h.failed), num(h.canceled)];
    const finished = succeeded + failed + canceled;
    return {
      id: batchId,
      object: 'batch',
      status: finished >= accepted ? 'completed' : 'in_progress',
      counts: {
        total: num(h.total),
        accepted,
        rejected: num(h.rejected),
        queued_or_running: Math.max(0, accepted - finished),
        succeeded,
        failed,
        canceled,
      },
      cost: costFromNanos(num(h.cost_nanos)),
      created_at: new Date(num(h.created_at)).toISOString(),
      webhook: h.webhook_url ? { url: h.webhook_url } : null,
    };
  }

  /**
   * Enqueues the batch's `batch.completed` event when it has a webhook and every job finished.
   * Safe to call more than once (the event id is fixed): the worker counting the last job and the
   * API finalizing a batch whose jobs all finished first may both see it complete.
   */
  async announceIfCompleted(tenantId: string, batch: BatchRecord): Promise<void> {
    if (batch.status !== 'completed' || !batch.webhook || !this.opts.webhooks) return;
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
    const k = batchKeys(this.opts.keys, tenantId, batchId);
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
    const k = batchKeys(this.opts.keys, tenantId, batchId);
    const now = Math.floor(Date.now() / 1000);
    const args = [jobId, status, String(costNanos), this.opts.retentionSeconds, now];
    const counted = await this.scripts.finished(k.batch, k.done, k.jobs, ...args);
    if (counted === 2 && this.opts.webhooks) {
      const batch = await this.get(tenantId, batchId);
      if (batch) await this.announceIfCompleted(tenantId, batch);
    }
    return counted >= 1;
  }
}
