import { batchShardTag } from '@switchyard/admission';
import type { Lane } from '@switchyard/contracts';

/**
 * Redis key names of jobs. Queue keys are BullMQ's: a lane's queue is `queueName(lane)` under the
 * deployment's prefix as BullMQ prefix (`<prefix>:{<lane>}:…`), so the lane is the Redis Cluster
 * hash tag and lanes can live on different slots. A sharded batch lane (`lanes.batch.shards`) is
 * one queue per shard: shard 0 keeps `{batch}` (so a lane that was never sharded keeps its keys),
 * shard n is `{<batchShardTag(n)>}`, each its own hash tag, picked so that a Redis Cluster spreads
 * them over its masters.
 */
export interface JobKeys {
  /** BullMQ queue name for a lane (and batch shard); braces make it a cluster hash tag. */
  queueName(lane: Lane, shard?: number): string;
  /** String: an Idempotency-Key's claim, JSON of the request fingerprint and the job id it names. */
  idempotency(tenantId: string, keyHash: string): string;
  /** String, set when a job is canceled; a worker skips or aborts it. */
  cancel(jobId: string): string;
  /** Pub/sub channel telling workers which job was canceled. */
  readonly cancelChannel: string;
  /**
   * Hash: attempt state of a job. `n` attempts so far (INCR'd when one starts, so it numbers
   * them), `m` index of the model in use (0 = the requested one), `mn` attempts on that model.
   */
  attempts(jobId: string): string;
  /** Stream of a streaming job's events (deltas, done, fail), relayed by the API as SSE. */
  deltas(jobId: string): string;
  /**
   * Hash: the retry budget of one upstream, `model:<name>` or `host:<hostname>`, counting every
   * tenant's attempts (lua/retry-budget-2.lua in the worker). The upstream is the hash tag.
   */
  retryBudget(upstream: string): string;
  /** Hash: one tenant's share of an upstream's retry budget, in the same slot. */
  retryBudgetShare(upstream: string, tenantId: string): string;
  /**
   * Zset of a lane's jobs delayed for `reason` without spending an attempt (jobId -> when it is
   * due, ms): what `GET /v1/admin/lanes` breaks the delayed count down by. In the lane's slot.
   */
  delayedFor(lane: Lane, reason: DelayReason): string;
  /** Hash: worker id -> its last heartbeat (JSON of `WorkerInfo`). */
  readonly workers: string;
  /** Zset: worker id -> time of its last heartbeat (ms). */
  readonly workerBeats: string;
  /** List: the last jobs that failed for good, newest first, capped (failure-log.ts; the ops page). */
  readonly failures: string;
}

/** Why a job was delayed without spending an attempt: no proxy capacity, or host politeness. */
export type DelayReason = 'egress' | 'host';

/** Every key name of jobs, built from the deployment's key prefix (no spaces or braces). */
export function jobKeys(prefix: string): JobKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    queueName: (lane, shard = 0) => (lane === 'batch' ? `{${batchShardTag(shard)}}` : `{${lane}}`),
    idempotency: (tenantId, keyHash) => `${prefix}:idem:{${tenantId}}:${keyHash}`,
    cancel: (jobId) => `${prefix}:cancel:${jobId}`,
    cancelChannel: `${prefix}:cancel`,
    attempts: (jobId) => `${prefix}:attempts:${jobId}`,
    deltas: (jobId) => `${prefix}:deltas:${jobId}`,
    retryBudget: (upstream) => `${prefix}:retry-budget:{${upstream}}`,
    retryBudgetShare: (upstream, tenantId) => `${prefix}:retry-budget:{${upstream}}:${tenantId}`,
    delayedFor: (lane, reason) => `${prefix}:lane:{${lane}}:delayed-for:${reason}`,
    workers: `${prefix}:{workers}`,
    workerBeats: `${prefix}:{workers}:beats`,
    failures: `${prefix}:failures`,
  };
}
