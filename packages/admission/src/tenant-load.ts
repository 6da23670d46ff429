import { SwitchyardError } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { admissionKeys, type AdmissionKeys } from './keys.ts';
import { defineScripts, type ScriptRunner } from './scripts.ts';

/** How long after its deadline an entry a crashed process never cleared goes on counting. */
export const LOAD_GRACE_MS = 60_000;

/** Until capacity frees, a refused client should wait about this long (it is not knowable). */
const RETRY_AFTER_SECONDS = 2;

export interface TenantLimits {
  /** Jobs admitted and not finished (queued, running or waiting to retry); 0: no limit. */
  maxJobsInFlight: number;
  /** Jobs admitted and not yet started by a worker; 0: no limit. */
  maxJobsQueued: number;
}

export interface TenantLoadCounts {
  inFlight: number;
  queued: number;
}

/**
 * Per-tenant limits on jobs in flight and jobs queued, shared by every API process and worker
 * through two sorted sets per tenant (`tenant-load-*.lua`). The API admits (atomically, all or
 * none), workers note when a job starts and when it finishes. Each entry expires at its job's
 * deadline plus a grace, so a process that died between admission and finish cannot hold a
 * tenant's room for longer than its jobs could have run.
 */
export class TenantLoad {
  readonly limits: TenantLimits;
  private readonly redis: Redis | Cluster;
  private readonly keys: AdmissionKeys;
  private readonly run: ScriptRunner;

  constructor(opts: { redis: Redis | Cluster; prefix: string; limits: TenantLimits }) {
    this.redis = opts.redis;
    this.keys = admissionKeys(opts.prefix);
    this.limits = opts.limits;
    this.run = defineScripts(opts.redis);
  }

  /** True when either limit is on; with both off nothing is tracked (no Redis work per job). */
  get enabled(): boolean {
    return this.limits.maxJobsInFlight > 0 || this.limits.maxJobsQueued > 0;
  }

  /**
   * Admits jobs that expire (deadline + grace) at `expiresAt`, all or none; with no ids, checks
   * that there is room for one more. Over a limit: 429 `too_many_jobs_in_flight` or
   * `too_many_jobs_queued` with Retry-After.
   */
  async admit(tenantId: string, jobIds: string[], expiresAt: number): Promise<void> {
    if (!this.enabled) return;
    const { open, started } = this.keys.tenantLoad(tenantId);
    const { maxJobsInFlight, maxJobsQueued } = this.limits;
    const [ok, inFlight, queued] = (await this.run(
      'tenant-load-admit',
      [open, started],
      [maxJobsInFlight, maxJobsQueued, Math.ceil(expiresAt), ...jobIds],
    )) as [number, number, number];
    if (ok === 1) return;
    const retryAfterSeconds = RETRY_AFTER_SECONDS;
    if (ok === 0) {
      throw new SwitchyardError(
        'too_many_jobs_in_flight',
        `the tenant has ${inFlight} jobs in flight (limit ${maxJobsInFlight}); wait for some to finish`,
        { retryAfterSeconds },
      );
    }
    throw new SwitchyardError(
      'too_many_jobs_queued',
      `the tenant has ${queued} jobs queued (limit ${maxJobsQueued}); wait for workers to start them`,
      { retryAfterSeconds },
    );
  }

  /** Counts jobs admitted another way (a batch is checked once, before its lines are read). */
  async track(tenantId: string, jobIds: string[], expiresAt: number): Promise<void> {
    if (!this.enabled || jobIds.length === 0) return;
    const { open, started } = this.keys.tenantLoad(tenantId);
    await this.run('tenant-load-admit', [open, started], [0, 0, Math.ceil(expiresAt), ...jobIds]);
  }

  /** A worker started the job: it stops counting as queued (it still counts as in flight). */
  async started(tenantId: string, jobId: string): Promise<void> {
    if (!this.enabled) return;
    const { open, started } = this.keys.tenantLoad(tenantId);
    await this.run('tenant-load-start', [open, started], [jobId]);
  }

  /** The job reached a final state, or was never stored: it stops counting. */
  async finished(tenantId: string, jobIds: string[]): Promise<void> {
    if (!this.enabled || jobIds.length === 0) return;
    const { open, started } = this.keys.tenantLoad(tenantId);
    // Two plain commands, not a transaction: between them the job only counts as running.
    await Promise.all([this.redis.zrem(open, ...jobIds), this.redis.zrem(started, ...jobIds)]);
  }

  /** What counts against the tenant's limits now (expired entries excluded). */
  async counts(tenantId: string, now = Date.now()): Promise<TenantLoadCounts> {
    const { open, started } = this.keys.tenantLoad(tenantId);
    const [inFlight, running] = await Promise.all([
      this.redis.zcount(open, now, '+inf'),
      this.redis.zcount(started, now, '+inf'),
    ]);
    return { inFlight, queued: inFlight - running };
  }
}
