import { SwitchyardError, type Lane } from '@switchyard/contracts';
import type { BulkJobOptions } from 'bullmq';
import { randomBytes } from 'node:crypto';
import type { AcceptedLine, IntakeSummary } from './batch-lines.ts';
import type { BatchRecord, BatchStoreOptions } from './batch-store.ts';
import type { HeldJob } from './fair-share.ts';
import { fingerprint } from './fingerprint.ts';
import type { JobData } from './job-data.ts';
import { idempotentJobId } from './job-ids.ts';
import { jobOptions, type JobStore } from './job-store.ts';
import type { Keys } from './keys.ts';
import { LOAD_GRACE_MS } from './tenant-load.ts';

export type ScriptCall = (...args: (string | number)[]) => Promise<number>;

/** Accepted lines go to BullMQ (`addBulk`) this many at a time. */
export const BATCH_CHUNK_SIZE = 500;

const REUSED = 'this Idempotency-Key was already used for a batch with different lines';

/** Batch keys share the tenant's hash tag, so a script can touch all of them in a cluster. */
export function batchKeys(keys: Keys, tenantId: string, batchId: string) {
  const base = `${keys.prefix}:batch:{${tenantId}}:${batchId}`;
  return { batch: base, jobs: `${base}:jobs`, done: `${base}:done`, staging: `${base}:staging:` };
}

/** What a writer needs from its store. */
export interface WriterContext {
  opts: BatchStoreOptions;
  jobs: JobStore;
  finalize: ScriptCall;
  batchTimeoutMs: number;
  get(tenantId: string, batchId: string): Promise<BatchRecord | undefined>;
  announceIfCompleted(tenantId: string, batch: BatchRecord): Promise<void>;
}

/**
 * One request's view of a batch being received: buffers accepted lines into chunks the caller
 * flushes (each flush is one round of Redis work), then finalizes the batch.
 */
export class BatchWriter {
  readonly tenantId: string;
  readonly batchId: string;
  private readonly ctx: WriterContext;
  /** The fingerprint of an already finalized batch under this id; nothing is enqueued then. */
  private readonly replayOf: string | null;
  private readonly keys: ReturnType<typeof batchKeys>;
  /** This request's own list of job ids: concurrent requests for one batch never interleave. */
  private readonly staging: string;
  private readonly startedAt = Date.now();
  private readonly webhookUrl: string | undefined;
  private pending: AcceptedLine[] = [];
  private maxTimeoutMs = 0;

  constructor(
    ctx: WriterContext,
    tenantId: string,
    batchId: string,
    replayOf: string | null,
    webhookUrl?: string,
  ) {
    this.ctx = ctx;
    this.tenantId = tenantId;
    this.batchId = batchId;
    this.replayOf = replayOf;
    this.webhookUrl = webhookUrl;
    this.keys = batchKeys(ctx.opts.keys, tenantId, batchId);
    this.staging = this.keys.staging + randomBytes(8).toString('hex');
  }

  /** Adds an accepted line; true when a full chunk waits for `flush()`. */
  add(line: AcceptedLine): boolean {
    if (this.replayOf !== null) return false;
    this.pending.push(line);
    this.maxTimeoutMs = Math.max(this.maxTimeoutMs, line.spec.timeout_ms ?? this.ctx.batchTimeoutMs);
    return this.pending.length >= BATCH_CHUNK_SIZE;
  }

  /** Enqueues the pending lines (BullMQ `addBulk` per lane) and appends their ids to the staging list. */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const chunk = this.pending;
    this.pending = [];
    const { tenantId, batchId } = this;
    const { redis, retentionSeconds, maxAttempts = 3, backoffMs = 500 } = this.ctx.opts;
    const now = Date.now();
    const byLane = new Map<Lane, { name: string; data: JobData; opts: BulkJobOptions }[]>();
    const [entries, held, ids]: [string[], HeldJob[], string[]] = [[], [], []];
    let lastDeadline = now;
    const { fair } = this.ctx.opts;
    for (const { spec, customId, fingerprint } of chunk) {
      const jobId = idempotentJobId(spec.lane, tenantId, `batch:${batchId}:${customId}`);
      const deadline = now + (spec.timeout_ms ?? this.ctx.batchTimeoutMs);
      lastDeadline = Math.max(lastDeadline, deadline);
      ids.push(jobId);
      const batch = { id: batchId, customId };
      const data: JobData = { v: 1, tenantId, spec, fingerprint, submittedAt: now, deadline, batch };
      const opts = jobOptions(spec, jobId, { retentionSeconds, maxAttempts, backoffMs });
      if (fair && spec.lane === 'batch') {
        opts.delay = Math.max(1, deadline - now); // as JobStore.submit: held until the mover releases it
        held.push({ jobId, priority: spec.priority, at: now });
      }
      const group = byLane.get(spec.lane) ?? [];
      if (!group.length) byLane.set(spec.lane, group);
      group.push({ name: spec.type, data, opts });
      entries.push(`${jobId} ${customId}`);
    }
    // Job ids are deterministic, so BullMQ ignores a job that is already there: enqueueing a
    // chunk again (a replay repairing a request that died half-way) adds nothing twice.
    await Promise.all([...byLane].map(([lane, jobs]) => this.ctx.jobs.queues[lane].addBulk(jobs)));
    if (held.length) await fair?.hold(tenantId, held); // idempotent, like the adds
    // Counted once stored (a crash before this under-counts; never a phantom job). A replay
    // repairing a dead request counts again lines that may have finished meanwhile: they stop
    // counting at their deadline.
    await this.ctx.opts.load?.track(tenantId, ids, lastDeadline + LOAD_GRACE_MS);
    const tx = redis.multi().rpush(this.staging, ...entries);
    const replies = await tx.expire(this.staging, retentionSeconds).exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('batch staging write was discarded');
  }

  /**
   * Finalizes the batch and returns it. A replay (same Idempotency-Key) with the same lines
   * returns the existing batch; with other lines it is `idempotency_key_reused`.
   */
  async finish(summary: IntakeSummary): Promise<{ batch: BatchRecord; replayed: boolean }> {
    await this.flush();
    const r = await this.finalize(summary);
    if (r === -1) throw new SwitchyardError('idempotency_key_reused', REUSED);
    const batch = await this.ctx.get(this.tenantId, this.batchId);
    if (!batch) throw new SwitchyardError('internal_error', 'the batch could not be read back');
    // Its jobs may all have finished before it was finalized (or every line was rejected); a
    // replay announces again, harmlessly, in case the first request died before it could.
    await this.ctx.announceIfCompleted(this.tenantId, batch);
    return { batch, replayed: r === 1 };
  }

  /** The lines' fingerprint, with the batch webhook folded in when there is one. */
  private fingerprint(s: IntakeSummary): string {
    return this.webhookUrl === undefined ? s.fingerprint : fingerprint([s.fingerprint, this.webhookUrl]);
  }

  /** 0: this request created the batch; 1: it exists with the same lines; -1: with other lines. */
  private async finalize(s: IntakeSummary): Promise<number> {
    const fp = this.fingerprint(s);
    if (this.replayOf !== null) return this.replayOf === fp ? 1 : -1;
    const { batch, jobs, done } = this.keys;
    const ttl = this.ctx.opts.retentionSeconds + Math.ceil(this.maxTimeoutMs / 1000);
    const args = [fp, this.startedAt, s.total, s.accepted, s.rejected, ttl, this.webhookUrl ?? ''];
    return this.ctx.finalize(batch, this.staging, jobs, done, ...args);
  }
}
