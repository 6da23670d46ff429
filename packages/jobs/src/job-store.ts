import { LOAD_GRACE_MS, type FairShare, type TenantLoad } from '@switchyard/admission';
import {
  isFinal,
  LANES,
  SwitchyardError,
  type JobRecord,
  type JobSpec,
  type Lane,
} from '@switchyard/contracts';
import { Job, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { deadlineOf, enqueueJobs, type EnqueueTarget, type JobSettings, type NewJob } from './enqueue.ts';
import { waitForReplicas } from './connection.ts';
import { fingerprint } from './fingerprint.ts';
import { claimIdempotencyKey, type Claim } from './idempotency-claim.ts';
import type { JobData, JobReturn } from './job-data.ts';
import { idempotentJobId, isJobId, laneOfJobId, newJobId, shardOfJobId } from './job-ids.ts';
import { newJobRecord, toJobRecord } from './job-record.ts';
import { jobKeys, type JobKeys } from './keys.ts';

export interface JobStoreOptions extends JobSettings {
  /** An `api`-role connection (fail fast). */
  redis: Redis | Cluster;
  /** The deployment's key prefix (`redis.prefix`), also the queues' BullMQ prefix. */
  prefix: string;
  idempotencyTtlSeconds: number;
  /** Deadline of a job without `timeout_ms`. */
  defaultTimeoutMs: number;
  costs?: JobCosts;
  /** Batch-lane fair share between tenants; without it batch jobs are ready at once. */
  fair?: Pick<FairShare, 'hold'>;
  /** Per-tenant limits on jobs in flight and queued; without it there are none. */
  load?: TenantLoad;
  /**
   * Queues the batch lane is spread over (`lanes.batch.shards`, docs/adr/0026-sharded-batch-lane.md);
   * default 1. New batch jobs go to a random shard. Reads need no count: a job id names its shard.
   */
  batchShards?: number;
  /**
   * Replicas that must hold a submission before it is acknowledged (`redis.waitReplicas`), and
   * how long to wait for them; 0 or absent: acknowledged once the master has it.
   */
  waitReplicas?: { replicas: number; timeoutMs: number };
}

export interface SubmitInput {
  tenantId: string;
  spec: JobSpec;
  idempotencyKey?: string;
  /**
   * Admission checks for a new job (budgets, limits). Not run for an Idempotency-Key replay,
   * which returns the existing job; when it throws, the key is released again.
   */
  admit?: () => Promise<void>;
  /** The worker relays content deltas as they arrive (`POST /v1/chat/completions`, `stream: true`). */
  stream?: boolean;
  /** Trace context of the submitting request; the worker's attempt spans join its trace. */
  trace?: Record<string, string>;
}

/** Where job costs come from (the ledger): every attempt, failed ones included. */
export interface JobCosts {
  jobTotals(tenantId: string, jobId: string): Promise<{ attempts: number; costNanos: number }>;
}

export interface Submitted {
  job: JobRecord;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

export type SwitchyardJob = Job<JobData, JobReturn | undefined>;
type LaneQueue = Queue<JobData, JobReturn | undefined>;

/**
 * Admission's view of the queues: submit (with Idempotency-Key semantics decided inside Redis),
 * read and cancel jobs. A job is acknowledged only after BullMQ has stored it.
 */
export class JobStore {
  /** Each lane's queue; on a sharded batch lane `batch` is shard 0's (see `batchQueues`). */
  readonly queues: Record<Lane, LaneQueue>;
  /** The batch lane's queues by shard, `[0]` being `queues.batch`. */
  readonly batchQueues: readonly LaneQueue[];
  /** Queues of shards past `batchShards` that a job id named (the lane was sharded wider once). */
  private readonly extraShards = new Map<number, LaneQueue>();
  private readonly opts: JobStoreOptions;
  private readonly keys: JobKeys;

  constructor(opts: JobStoreOptions) {
    this.opts = opts;
    this.keys = jobKeys(opts.prefix);
    this.queues = { interactive: this.makeQueue('interactive', 0), batch: this.makeQueue('batch', 0) };
    const shards = Array.from({ length: Math.max(1, opts.batchShards ?? 1) }, (_, i) => i);
    this.batchQueues = shards.map((i) => (i === 0 ? this.queues.batch : this.makeQueue('batch', i)));
  }

  private makeQueue(lane: Lane, shard: number): LaneQueue {
    const q = new Queue<JobData, JobReturn | undefined>(this.keys.queueName(lane, shard), {
      connection: this.opts.redis,
      prefix: this.opts.prefix,
    });
    q.on('error', () => undefined); // connection errors surface as 503s on the request that hits them
    return q;
  }

  /** The queue holding a job, from its id alone (lane and batch shard), no read. */
  queueOf(jobId: string): LaneQueue | undefined {
    const lane = isJobId(jobId) ? laneOfJobId(jobId) : undefined;
    if (!lane) return undefined;
    const shard = lane === 'batch' ? shardOfJobId(jobId) : 0;
    if (shard === 0) return this.queues[lane];
    const known = this.batchQueues[shard] ?? this.extraShards.get(shard);
    if (!known) this.extraShards.set(shard, this.makeQueue('batch', shard));
    return known ?? this.extraShards.get(shard);
  }

  /** Every queue of a lane: the interactive one, or each batch shard's. */
  queuesOf(lane: Lane): readonly LaneQueue[] {
    return lane === 'batch' ? this.batchQueues : [this.queues.interactive];
  }

  /** A shard for a new batch job: random, so every shard (and its Redis master) gets a share. */
  private newJobId(lane: Lane): string {
    const n = this.batchQueues.length;
    return newJobId(lane, lane === 'batch' && n > 1 ? Math.floor(Math.random() * n) : 0);
  }

  /** Where `enqueue` puts jobs: this store's queues, settings and fair share. */
  private get target(): EnqueueTarget {
    const { retentionSeconds, maxAttempts, backoffMs, fair } = this.opts;
    const settings = { retentionSeconds, maxAttempts, backoffMs };
    return { queues: this.queues, batchShards: this.batchQueues, settings, fair };
  }

  /** A batch line's (or any keyed) job id: the key's digest picks the batch shard. */
  idempotentJobId(lane: Lane, tenantId: string, key: string): string {
    return idempotentJobId(lane, tenantId, key, this.batchQueues.length);
  }

  /**
   * Enqueues jobs whose admission the caller has decided (a batch's lines): see `enqueueJobs`,
   * the one way jobs enter the queues.
   */
  async enqueue(tenantId: string, jobs: readonly NewJob[], now: number): Promise<void> {
    await enqueueJobs(this.target, tenantId, jobs, { now });
    for (const lane of new Set(jobs.map((j) => j.spec.lane))) await this.replicated(lane);
  }

  /**
   * With `waitReplicas`, resolves once that many replicas of the lane's node hold every write this
   * client made there (the jobs just added among them); else 503 `redis_unavailable`: the jobs
   * may still run, and a retry with the same Idempotency-Key names the same job.
   */
  private async replicated(lane: Lane): Promise<void> {
    const want = this.opts.waitReplicas;
    if (!want?.replicas) return;
    const key = this.queues[lane].toKey('meta');
    const acked = await waitForReplicas(this.opts.redis, key, want.replicas, want.timeoutMs);
    if (acked < want.replicas)
      throw new SwitchyardError(
        'redis_unavailable',
        `the job reached ${acked} of ${want.replicas} Redis replicas within ${want.timeoutMs} ms (redis.waitReplicas)`,
        { retryAfterSeconds: 1 },
      );
  }

  async submit(input: SubmitInput): Promise<Submitted> {
    const { tenantId, spec, idempotencyKey, admit, stream, trace } = input;
    const fp = fingerprint(spec);
    const claim: Claim =
      idempotencyKey === undefined
        ? { jobId: this.newJobId(spec.lane), replayed: false }
        : await this.claim(tenantId, spec.lane, idempotencyKey, fp);
    const { jobId, replayed } = claim;
    const now = Date.now();
    const deadline = deadlineOf(spec, now, this.opts.defaultTimeoutMs);
    const load = replayed ? undefined : this.opts.load;
    if (!replayed) {
      try {
        await admit?.();
        await load?.admit(tenantId, [jobId], deadline + LOAD_GRACE_MS);
      } catch (err) {
        if (claim.key) await this.opts.redis.del(claim.key);
        throw err;
      }
    }
    const job: NewJob = { jobId, spec, fingerprint: fp, deadline, stream, trace };
    // Adding is idempotent by job id, so a replay also repairs a first request that claimed the key
    // but died before its add reached Redis.
    await enqueueJobs(this.target, tenantId, [job], {
      now,
      // Not stored (as far as we know): give its room back. Stored after all: it is not counted.
      onNotStored: async () => load?.finished(tenantId, [jobId]).catch(() => undefined),
    });
    await this.replicated(spec.lane);
    // A random id names no earlier job, so what was stored is the record: no read-back. A keyed
    // job may be an earlier request's (a replay, or a key whose claim expired before its job).
    if (idempotencyKey === undefined) return { job: newJobRecord(jobId, spec, now, deadline), replayed };
    const found = await this.find(tenantId, jobId);
    if (!found) throw new SwitchyardError('internal_error', 'the job was stored but could not be read back');
    return { job: found, replayed };
  }

  /**
   * Whether the job has ended, in one command instead of a whole record: BullMQ finished it
   * (succeeded, failed, or canceled by a worker), or it is gone. As `isFinal`: a cancel request
   * ends a job only once a worker has stopped it.
   */
  async isFinished(jobId: string): Promise<boolean> {
    const queue = this.queueOf(jobId);
    if (!queue) return true;
    const state = await queue.getJobState(jobId);
    return state === 'completed' || state === 'failed' || state === 'unknown';
  }

  private claim(tenantId: string, lane: Lane, idempotencyKey: string, fp: string): Promise<Claim> {
    return claimIdempotencyKey({
      redis: this.opts.redis,
      keyOf: (keyHash) => this.keys.idempotency(tenantId, keyHash),
      ttlSeconds: this.opts.idempotencyTtlSeconds,
      idempotencyKey,
      jobId: this.idempotentJobId(lane, tenantId, idempotencyKey),
      fp,
    });
  }

  /** The job, or undefined when it does not exist or belongs to another tenant. */
  async getJob(
    tenantId: string,
    jobId: string,
  ): Promise<{ job: SwitchyardJob; record: JobRecord } | undefined> {
    const queue = this.queueOf(jobId);
    if (!queue) return undefined;
    const [read, state, cancel, attempts, costs] = await Promise.all([
      Job.fromId<JobData, JobReturn | undefined>(queue, jobId),
      queue.getJobState(jobId),
      this.opts.redis.exists(this.keys.cancel(jobId)),
      this.opts.redis.hget(this.keys.attempts(jobId), 'n'),
      this.opts.costs?.jobTotals(tenantId, jobId),
    ]);
    // The hash and the state are two reads: a job that finished between them reads finished with
    // no result yet, so its hash is read again (it holds the result once the state says finished).
    const finishedUnread = (state === 'completed' || state === 'failed') && read?.finishedOn === undefined;
    const job = finishedUnread ? await Job.fromId<JobData, JobReturn | undefined>(queue, jobId) : read;
    if (!job || job.data.tenantId !== tenantId) return undefined;
    // The totals were read before the state: an attempt that ended in between (the ledger has it
    // before BullMQ finishes the job) is missing from them, so a finished job's are read again.
    const started = Number(attempts ?? 0);
    const behind = costs && costs.attempts < started && (state === 'completed' || state === 'failed');
    const totals = behind ? await this.opts.costs?.jobTotals(tenantId, jobId) : costs;
    return { job, record: toJobRecord(job, state, cancel === 1, started, totals?.costNanos) };
  }

  async find(tenantId: string, jobId: string): Promise<JobRecord | undefined> {
    return (await this.getJob(tenantId, jobId))?.record;
  }

  /**
   * Marks the job canceled. A queued job is skipped when a worker reaches it; a running one is
   * aborted by the worker that holds it (told over pub/sub).
   */
  async cancel(tenantId: string, jobId: string): Promise<JobRecord> {
    const found = await this.getJob(tenantId, jobId);
    if (!found) throw new SwitchyardError('not_found', `no job ${jobId}`);
    if (isFinal(found.record)) {
      throw new SwitchyardError('job_finished', `job ${jobId} already ${found.record.status}`);
    }
    const key = this.keys.cancel(jobId);
    await this.opts.redis
      .multi()
      .set(key, '1', 'EX', this.opts.retentionSeconds)
      .publish(this.keys.cancelChannel, jobId)
      .exec();
    return (await this.find(tenantId, jobId)) ?? { ...found.record, status: 'canceled' };
  }

  async close(): Promise<void> {
    const all = [...LANES.flatMap((lane) => this.queuesOf(lane)), ...this.extraShards.values()];
    await Promise.all(all.map((q) => q.close()));
  }
}
