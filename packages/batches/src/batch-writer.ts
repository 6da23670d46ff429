import { LOAD_GRACE_MS, type TenantLoad } from '@switchyard/admission';
import { SwitchyardError, type JobSpec } from '@switchyard/contracts';
import { deadlineOf, fingerprint, type JobStore, type NewJob } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { BatchRecord } from './batch-record.ts';
import { batchKeys, type OneBatchKeys } from './keys.ts';
import type { ScriptRunner } from './scripts.ts';

/** Accepted lines go to BullMQ (`addBulk`) this many at a time. */
export const BATCH_CHUNK_SIZE = 500;

const REUSED = 'this Idempotency-Key was already used for a batch with different lines';

/** An accepted line of a batch (the API validated it). */
export interface BatchLine {
  customId: string;
  spec: JobSpec;
  /** `fingerprint(spec)`, carried into the job data. */
  fingerprint: string;
}

/** What the batch's body came to, once every line was read. */
export interface BatchSummary {
  total: number;
  accepted: number;
  rejected: number;
  /** Hash of every line's outcome, in order: decides Idempotency-Key replays of a batch. */
  fingerprint: string;
}

/** What a writer needs: handed over by `BatchStore.open`, so the writer never imports the store. */
export interface WriterDeps {
  redis: Redis | Cluster;
  /** The deployment's key prefix: the writer names its batch's keys. */
  prefix: string;
  /** Enqueues the lines (`JobStore.enqueue`, the one way jobs enter the queues). */
  jobs: Pick<JobStore, 'enqueue' | 'idempotentJobId'>;
  /** Per-tenant job limits: a batch's jobs count against them once enqueued. */
  load?: Pick<TenantLoad, 'track'>;
  retentionSeconds: number;
  /** Deadline of a line without `timeout_ms`. */
  batchTimeoutMs: number;
  /** The batch scripts (`defineScripts`); the writer runs `batch-finalize`. */
  run: ScriptRunner;
  /** The tenant's batch index (`batchKeys(prefix).index(tenantId)`) and how long it is kept. */
  index: { key: string; ttlSeconds: number };
  /** No line's deadline is later than this (epoch ms): a file batch's completion window. */
  deadlineAt?: number;
  /** The batch as `BatchStore.get` reads it. */
  read(): Promise<BatchRecord | undefined>;
  /** `BatchStore.announceIfCompleted`. */
  announceIfCompleted(batch: BatchRecord): Promise<void>;
}

/**
 * One request's view of a batch being received: buffers accepted lines into chunks the caller
 * flushes (each flush is one round of Redis work), then finalizes the batch.
 */
export class BatchWriter {
  readonly tenantId: string;
  readonly batchId: string;
  private readonly deps: WriterDeps;
  private readonly keys: OneBatchKeys;
  /** The fingerprint of an already finalized batch under this id; nothing is enqueued then. */
  private readonly replayOf: string | null;
  /** This request's own list of job ids: concurrent requests for one batch never interleave. */
  private readonly staging: string;
  private readonly startedAt = Date.now();
  private readonly webhookUrl: string | undefined;
  private pending: BatchLine[] = [];
  private maxTimeoutMs = 0;

  constructor(
    deps: WriterDeps,
    ids: { tenantId: string; batchId: string },
    replayOf: string | null,
    webhookUrl?: string,
  ) {
    this.deps = deps;
    this.tenantId = ids.tenantId;
    this.batchId = ids.batchId;
    this.keys = batchKeys(deps.prefix).batch(ids.tenantId, ids.batchId);
    this.replayOf = replayOf;
    this.webhookUrl = webhookUrl;
    this.staging = this.keys.staging + randomBytes(8).toString('hex');
  }

  /** True when the batch was already finalized under this id (an Idempotency-Key replay). */
  get isReplay(): boolean {
    return this.replayOf !== null;
  }

  /** Adds an accepted line; true when a full chunk waits for `flush()`. */
  add(line: BatchLine): boolean {
    if (this.replayOf !== null) return false;
    this.pending.push(line);
    this.maxTimeoutMs = Math.max(this.maxTimeoutMs, line.spec.timeout_ms ?? this.deps.batchTimeoutMs);
    return this.pending.length >= BATCH_CHUNK_SIZE;
  }

  /** Enqueues the pending lines and appends their ids to the staging list. */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const chunk = this.pending;
    this.pending = [];
    const { tenantId, batchId, deps } = this;
    const now = Date.now();
    const entries: string[] = [];
    const jobs = chunk.map(({ spec, customId, fingerprint }): NewJob => {
      const jobId = deps.jobs.idempotentJobId(spec.lane, tenantId, `batch:${batchId}:${customId}`);
      entries.push(`${jobId} ${customId}`);
      const deadline = Math.min(deadlineOf(spec, now, deps.batchTimeoutMs), deps.deadlineAt ?? Infinity);
      return { jobId, spec, fingerprint, deadline, batch: { id: batchId, customId } };
    });
    // Job ids are deterministic, so enqueueing a chunk again (a replay repairing a request that
    // died half-way) adds nothing twice.
    await deps.jobs.enqueue(tenantId, jobs, now);
    // Counted once stored (a crash before this under-counts; never a phantom job). A replay
    // repairing a dead request counts again lines that may have finished meanwhile: they stop
    // counting at their deadline.
    const lastDeadline = jobs.reduce((last, j) => Math.max(last, j.deadline), now);
    const ids = jobs.map((j) => j.jobId);
    await deps.load?.track(tenantId, ids, lastDeadline + LOAD_GRACE_MS);
    const tx = deps.redis.multi().rpush(this.staging, ...entries);
    const replies = await tx.expire(this.staging, deps.retentionSeconds).exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('batch staging write was discarded');
  }

  /**
   * Finalizes the batch and returns it. A replay (same Idempotency-Key) with the same lines
   * returns the existing batch; with other lines it is `idempotency_key_reused`.
   */
  async finish(summary: BatchSummary): Promise<{ batch: BatchRecord; replayed: boolean }> {
    await this.flush();
    const r = await this.finalize(summary);
    if (r === -1) throw new SwitchyardError('idempotency_key_reused', REUSED);
    const batch = await this.deps.read();
    if (!batch) throw new SwitchyardError('internal_error', 'the batch could not be read back');
    // Its jobs may all have finished before it was finalized (or every line was rejected); a
    // replay announces again, harmlessly, in case the first request died before it could.
    await this.deps.announceIfCompleted(batch);
    return { batch, replayed: r === 1 };
  }

  /** The lines' fingerprint, with the batch webhook folded in when there is one. */
  private fingerprint(s: BatchSummary): string {
    return this.webhookUrl === undefined ? s.fingerprint : fingerprint([s.fingerprint, this.webhookUrl]);
  }

  /** 0: this request created the batch; 1: it exists with the same lines; -1: with other lines. */
  private async finalize(s: BatchSummary): Promise<number> {
    const fp = this.fingerprint(s);
    if (this.replayOf !== null) return this.replayOf === fp ? 1 : -1;
    const { batch, jobs, done } = this.keys;
    const ttl = this.deps.retentionSeconds + Math.ceil(this.maxTimeoutMs / 1000);
    const now = Math.floor(Date.now() / 1000);
    const args = [fp, this.startedAt, s.total, s.accepted, s.rejected, ttl, this.webhookUrl ?? '', now];
    const r = Number(await this.deps.run('batch-finalize', [batch, this.staging, jobs, done], args));
    // The tenant's listing (GET /v1/batches); written before the batch is acknowledged.
    if (r === 0) {
      const { key, ttlSeconds } = this.deps.index;
      await this.deps.redis.multi().zadd(key, this.startedAt, this.batchId).expire(key, ttlSeconds).exec();
    }
    return r;
  }
}
