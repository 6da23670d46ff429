import type { Lane } from '@switchyard/contracts';

/**
 * Every Redis key name of jobs, built from the deployment's key prefix. Queue keys are BullMQ's
 * (`<prefix>:{<lane>}:…`): the lane is the Redis Cluster hash tag, so lanes can live on different
 * slots.
 */
export class JobKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** BullMQ queue name for a lane; braces make the lane a cluster hash tag. */
  queueName(lane: Lane): string {
    return `{${lane}}`;
  }

  /** An Idempotency-Key's claim: the request fingerprint and the job id it names. */
  idempotency(tenantId: string, keyHash: string): string {
    return `${this.prefix}:idem:{${tenantId}}:${keyHash}`;
  }

  /** Set when a job is canceled; a worker skips or aborts it. */
  cancel(jobId: string): string {
    return `${this.prefix}:cancel:${jobId}`;
  }

  /** Pub/sub channel telling workers which job was canceled. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /**
   * Attempt state of a job (hash): `n` attempts so far (INCR'd when one starts, so it numbers
   * them), `m` index of the model in use (0 = the requested one), `mn` attempts on that model.
   */
  attempts(jobId: string): string {
    return `${this.prefix}:attempts:${jobId}`;
  }

  /** Redis stream of a streaming job's events (deltas, done, fail), relayed by the API as SSE. */
  deltas(jobId: string): string {
    return `${this.prefix}:deltas:${jobId}`;
  }

  /** The fleet-wide retry budget of job attempts (one hash). */
  get retryBudget(): string {
    return `${this.prefix}:retry-budget`;
  }
}
