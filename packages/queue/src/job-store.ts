import { LANES, SwitchyardError, type JobRecord, type JobSpec, type Lane } from '@switchyard/contracts';
import { Job, Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { fingerprint } from './fingerprint.ts';
import type { JobData, JobReturn } from './job-data.ts';
import { idempotentJobId, isJobId, laneOfJobId, newJobId } from './job-ids.ts';
import { toJobRecord } from './job-record.ts';
import { createHash } from 'node:crypto';
import type { Keys } from './keys.ts';
import type { FairShare } from './fair-share.ts';
import { LOAD_GRACE_MS, type TenantLoad } from './tenant-load.ts';

export interface JobStoreOptions {
  /** An `api`-role connection (fail fast). */
  redis: Redis;
  keys: Keys;
  idempotencyTtlSeconds: number;
  retentionSeconds: number;
  maxAttempts: number;
  backoffMs: number;
  defaultTimeoutMs: number;
  costs?: JobCosts;
  /** Batch-lane fair share between tenants; without it batch jobs are ready at once. */
  fair?: FairShare;
  /** Per-tenant limits on jobs in flight and queued; without it there are none. */
  load?: TenantLoad;
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
  jobTotals(tenantId: string, jobId: string): Promise<{ costNanos: number }>;
}

export interface Submitted {
  job: JobRecord;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

interface IdempotencyRecord {
  fp: string;
  jobId: string;
}

export type SwitchyardJob = Job<JobData, JobReturn | undefined>;

/** BullMQ job options for a spec: retention covers the idempotency window, priority is always set. */
export function jobOptions(
  spec: JobSpec,
  jobId: string,
  opts: Pick<JobStoreOptions, 'retentionSeconds' | 'maxAttempts' | 'backoffMs'>,
): JobsOptions {
  return {
    jobId,
    priority: spec.priority,
    // The retry authority decides; BullMQ only needs room for every attempt it may allow.
    attempts: opts.maxAttempts * (1 + (spec.type === 'completion' ? (spec.fallbacks?.length ?? 0) : 0)),
    backoff: { type: 'switchyard', delay: opts.backoffMs },
    removeOnComplete: { age: opts.retentionSeconds },
    removeOnFail: { age: opts.retentionSeconds },
  };
}

/**
 * Admission's view of the queues: submit (with Idempotency-Key semantics decided inside Redis),
 * read and cancel jobs. A job is acknowledged only after BullMQ has stored it.
 */
export class JobStore {
  readonly queues: Record<Lane, Queue<JobData, JobReturn | undefined>>;
  private readonly opts: JobStoreOptions;

  constructor(opts: JobStoreOptions) {
    this.opts = opts;
    const make = (lane: Lane) => {
      const q = new Queue<JobData, JobReturn | undefined>(opts.keys.queueName(lane), {
        connection: opts.redis,
        prefix: opts.keys.prefix,
      });
      q.on('error', () => undefined); // connection errors surface as 503s on the request that hits them
      return q;
    };
    this.queues = { interactive: make('interactive'), batch: make('batch') };
  }

  async submit(input: SubmitInput): Promise<Submitted> {
    const { tenantId, spec, idempotencyKey, admit, stream, trace } = input;
    const fp = fingerprint(spec);
    let jobId = newJobId(spec.lane);
    let replayed = false;
    let claimKey: string | undefined;
    if (idempotencyKey !== undefined) {
      jobId = idempotentJobId(spec.lane, tenantId, idempotencyKey);
      const keyHash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
      const record: IdempotencyRecord = { fp, jobId };
      claimKey = this.opts.keys.idempotency(tenantId, keyHash);
      // One atomic command claims the key or returns the earlier claim: no check-then-add window.
      const prev = await this.opts.redis.set(
        claimKey,
        JSON.stringify(record),
        'EX',
        this.opts.idempotencyTtlSeconds,
        'NX',
        'GET',
      );
      if (prev !== null) {
        const earlier = JSON.parse(prev) as IdempotencyRecord;
        if (earlier.fp !== fp) {
          throw new SwitchyardError(
            'idempotency_key_reused',
            'this Idempotency-Key was already used with a different request body',
          );
        }
        jobId = earlier.jobId;
        replayed = true;
      }
    }
    const now = Date.now();
    const deadline = now + (spec.timeout_ms ?? this.opts.defaultTimeoutMs);
    const load = replayed ? undefined : this.opts.load;
    if (!replayed) {
      try {
        await admit?.();
        await load?.admit(tenantId, [jobId], deadline + LOAD_GRACE_MS);
      } catch (err) {
        if (claimKey) await this.opts.redis.del(claimKey);
        throw err;
      }
    }
    const data: JobData = {
      v: 1,
      tenantId,
      spec,
      fingerprint: fp,
      submittedAt: now,
      deadline,
      ...(stream ? { stream: true } : {}),
      ...(trace && Object.keys(trace).length ? { trace } : {}),
    };
    // Adding is idempotent by job id, so a replay also repairs a first request that claimed the key
    // but died before its add reached Redis.
    const fair = spec.lane === 'batch' ? this.opts.fair : undefined;
    const options = jobOptions(spec, jobId, this.opts);
    // A fair-shared batch job waits (delayed, at most until its deadline) until the mover releases it.
    if (fair) options.delay = Math.max(1, data.deadline - now);
    try {
      await this.queues[spec.lane].add(spec.type, data, options);
    } catch (err) {
      // Not stored (as far as we know): give its room back. Stored after all: it is not counted.
      await load?.finished(tenantId, [jobId]).catch(() => undefined);
      throw err;
    }
    await fair?.hold(tenantId, [{ jobId, priority: spec.priority, at: now }]);
    const found = await this.find(tenantId, jobId);
    if (!found) throw new SwitchyardError('internal_error', 'the job was stored but could not be read back');
    return { job: found, replayed };
  }

  /** The job, or undefined when it does not exist or belongs to another tenant. */
  async getJob(
    tenantId: string,
    jobId: string,
  ): Promise<{ job: SwitchyardJob; record: JobRecord } | undefined> {
    const lane = isJobId(jobId) ? laneOfJobId(jobId) : undefined;
    if (!lane) return undefined;
    const queue = this.queues[lane];
    const [job, state, cancel, attempts, costs] = await Promise.all([
      Job.fromId<JobData, JobReturn | undefined>(queue, jobId),
      queue.getJobState(jobId),
      this.opts.redis.exists(this.opts.keys.cancel(jobId)),
      this.opts.redis.hget(this.opts.keys.attempts(jobId), 'n'),
      this.opts.costs?.jobTotals(tenantId, jobId),
    ]);
    if (!job || job.data.tenantId !== tenantId) return undefined;
    return { job, record: toJobRecord(job, state, cancel === 1, Number(attempts ?? 0), costs?.costNanos) };
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
    const { status } = found.record;
    if (
      status === 'succeeded' ||
      status === 'failed' ||
      (status === 'canceled' && found.record.finished_at)
    ) {
      throw new SwitchyardError('job_finished', `job ${jobId} already ${status}`);
    }
    const key = this.opts.keys.cancel(jobId);
    await this.opts.redis
      .multi()
      .set(key, '1', 'EX', this.opts.retentionSeconds)
      .publish(this.opts.keys.cancelChannel, jobId)
      .exec();
    return (await this.find(tenantId, jobId)) ?? { ...found.record, status: 'canceled' };
  }

  async close(): Promise<void> {
    await Promise.all(LANES.map((lane) => this.queues[lane].close()));
  }
}
