import type { FairShare, HeldJob } from '@switchyard/admission';
import type { JobSpec, Lane } from '@switchyard/contracts';
import type { JobsOptions, Queue } from 'bullmq';
import type { JobData, JobReturn } from './job-data.ts';
import { shardOfJobId } from './job-ids.ts';

type LaneQueue = Queue<JobData, JobReturn | undefined>;

/** What every job gets from the deployment's config (`jobs.*`). */
export interface JobSettings {
  /** Finished jobs are kept this long (covers the idempotency window). */
  retentionSeconds: number;
  /** Upstream attempts per model, first included. */
  maxAttempts: number;
  /** First retry delay. */
  backoffMs: number;
}

/** A job about to be enqueued: what its submitter decided. */
export interface NewJob {
  jobId: string;
  spec: JobSpec;
  /**
   * `fingerprint(spec)`, for the submitter's own use (Idempotency-Key claims, a batch's lines); not
   * stored in the job (see `JobData`).
   */
  fingerprint: string;
  /** Epoch ms (`deadlineOf`). */
  deadline: number;
  /** Set on the lines of a batch. */
  batch?: { id: string; customId: string };
  stream?: boolean;
  trace?: Record<string, string>;
}

/** A job as BullMQ's `add` / `addBulk` take it. */
export interface BuiltJob {
  name: string;
  data: JobData;
  opts: JobsOptions;
}

/** Where jobs go: the lanes' queues, the settings every job gets, and the batch lane's fair share. */
export interface EnqueueTarget {
  queues: Record<Lane, LaneQueue>;
  /**
   * A sharded batch lane's queues by shard (`[0]` is `queues.batch`); a batch job goes to the
   * shard its id names (`shardOfJobId`). Without it every batch job is on `queues.batch`.
   */
  batchShards?: readonly LaneQueue[];
  settings: JobSettings;
  /** Batch-lane fair share between tenants; without it batch jobs are ready at once. */
  fair?: Pick<FairShare, 'hold'>;
}

export interface EnqueueOptions {
  /** Submission time of every job (epoch ms); their deadlines were computed from it. */
  now: number;
  /** Called when adding failed (the jobs are not stored, as far as anyone knows), before rethrowing. */
  onNotStored?: () => Promise<void>;
}

/** The epoch ms after which no attempt of a job starts: its `timeout_ms`, else the caller's default. */
export function deadlineOf(spec: JobSpec, now: number, defaultTimeoutMs: number): number {
  return now + (spec.timeout_ms ?? defaultTimeoutMs);
}

/** BullMQ job options for a spec: retention covers the idempotency window, priority is always set. */
export function jobOptions(spec: JobSpec, jobId: string, settings: JobSettings): JobsOptions {
  return {
    jobId,
    priority: spec.priority,
    // The retry authority decides; BullMQ only needs room for every attempt it may allow.
    attempts: settings.maxAttempts * (1 + (spec.type === 'completion' ? (spec.fallbacks?.length ?? 0) : 0)),
    backoff: { type: 'switchyard', delay: settings.backoffMs },
    removeOnComplete: { age: settings.retentionSeconds },
    removeOnFail: { age: settings.retentionSeconds },
  };
}

/**
 * BullMQ's name, data and options of a new job. A `held` job (fair-shared, on the batch lane) is
 * stored delayed until its deadline; the fair-share mover releases it sooner.
 */
export function buildJob(
  tenantId: string,
  job: NewJob,
  now: number,
  settings: JobSettings,
  held: boolean,
): BuiltJob {
  const { jobId, spec, deadline, batch, stream, trace } = job;
  const data: JobData = {
    v: 1,
    tenantId,
    spec,
    submittedAt: now,
    deadline,
    ...(batch ? { batch } : {}),
    ...(stream ? { stream: true } : {}),
    ...(trace && Object.keys(trace).length ? { trace } : {}),
  };
  const opts = jobOptions(spec, jobId, settings);
  if (held) opts.delay = Math.max(1, deadline - now);
  return { name: spec.type, data, opts };
}

/**
 * The one way jobs enter the queues (`JobStore.submit` and batch writers): builds each job's data
 * and options, adds them to their lanes, then holds the fair-shared ones in their tenant's
 * backlog. Both steps are idempotent by job id, so enqueueing the same jobs again (a replay
 * repairing a request that died half-way) adds nothing twice.
 */
export async function enqueueJobs(
  target: EnqueueTarget,
  tenantId: string,
  jobs: readonly NewJob[],
  { now, onNotStored }: EnqueueOptions,
): Promise<void> {
  const { fair, settings } = target;
  const byQueue = new Map<LaneQueue, BuiltJob[]>();
  const held: HeldJob[] = [];
  for (const job of jobs) {
    const hold = fair !== undefined && job.spec.lane === 'batch';
    const shard = job.spec.lane === 'batch' ? shardOfJobId(job.jobId) : 0;
    const queue = queueOf(target, job.spec.lane, shard);
    const group = byQueue.get(queue) ?? [];
    if (!group.length) byQueue.set(queue, group);
    group.push(buildJob(tenantId, job, now, settings, hold));
    if (hold) held.push({ jobId: job.jobId, priority: job.spec.priority, at: now, shard });
  }
  try {
    await Promise.all([...byQueue].map(([queue, group]) => addToLane(queue, group)));
  } catch (err) {
    await onNotStored?.();
    throw err;
  }
  if (held.length) await fair?.hold(tenantId, held);
}

/** The queue of a lane, or of a batch shard (one the target does not have is a bug, not a job). */
function queueOf(target: EnqueueTarget, lane: Lane, shard: number): LaneQueue {
  if (shard === 0) return target.queues[lane];
  const queue = target.batchShards?.[shard];
  if (!queue) throw new RangeError(`no queue for batch shard ${shard}`);
  return queue;
}

/** One job is a plain add (no MULTI around it); more go in one `addBulk`. */
async function addToLane(queue: LaneQueue, jobs: BuiltJob[]): Promise<void> {
  const [only] = jobs;
  if (jobs.length === 1 && only) await queue.add(only.name, only.data, only.opts);
  else await queue.addBulk(jobs);
}
