import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { admissionKeys, type FairKeys } from './keys.ts';
import { defineScripts, type ScriptRunner } from './scripts.ts';

export interface HeldJob {
  jobId: string;
  priority: number;
  /** Submission time (ms): FIFO within a priority. */
  at: number;
}

/** What one refill did. */
export interface FairRefill {
  /** Jobs promoted from delayed to ready. */
  moved: number;
  /** Some tenant still has a backlog. */
  held: boolean;
}

/**
 * Fair share between tenants inside the batch lane (see docs/adr/0005-batch-fair-share.md).
 * Batch jobs are stored in BullMQ as delayed until their deadline, and their ids wait in a
 * per-tenant backlog. A mover in every batch worker keeps the lane's ready queue shallow and
 * refills it round-robin across tenants, so a million-job backlog cannot starve a small tenant.
 */
export class FairShare {
  private readonly redis: Redis | Cluster;
  private readonly keys: FairKeys;
  private readonly run: ScriptRunner;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.keys = admissionKeys(opts.prefix).fair;
    this.run = defineScripts(opts.redis);
  }

  /** Priority first (1 runs first), then submission order; exact in a double. */
  static score(job: HeldJob): number {
    return job.priority * 1e13 + job.at;
  }

  /** Puts jobs in their tenant's backlog; idempotent, so a replayed submission can repair a hold. */
  async hold(tenantId: string, jobs: HeldJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const f = this.keys;
    const pairs = jobs.flatMap((j) => [FairShare.score(j), j.jobId]);
    return Number(
      await this.run('fair-hold', [f.backlogPrefix + tenantId, f.ring, f.members], [tenantId, ...pairs]),
    );
  }

  /** Takes up to `n` held job ids round-robin across tenants (noted in flight until released). */
  async take(n: number, now = Date.now()): Promise<string[]> {
    const f = this.keys;
    return (await this.run(
      'fair-take',
      [f.ring, f.members, f.inflight],
      [n, now, f.backlogPrefix],
    )) as string[];
  }

  /**
   * One refill of `queue` (the batch lane, whose keys carry the same `{batch}` hash tag): up to
   * `buffer` ready jobs, taken round-robin and promoted in one script (`fair-refill-10.lua`).
   */
  async refill(queue: Queue, buffer: number): Promise<FairRefill> {
    const f = this.keys;
    const q = ['delayed', 'wait', 'meta', 'prioritized', 'active', 'pc', 'events', 'marker'].map((k) =>
      queue.toKey(k),
    );
    const [moved, held] = (await this.run(
      'fair-refill',
      [f.ring, f.members, ...q],
      [buffer, f.backlogPrefix, queue.toKey('')],
    )) as [number, number];
    return { moved, held: held === 1 };
  }

  /** Moves taken jobs from delayed into the ready queue, then forgets them as in flight. */
  async release(queue: Queue, ids: string[]): Promise<void> {
    const backend = queue.getBackend();
    await Promise.all(
      ids.map(async (id) => {
        // Not delayed any more (canceled and removed, or past its deadline and running): fine.
        await backend.promote(id).catch(() => undefined);
      }),
    );
    if (ids.length) await this.redis.hdel(this.keys.inflight, ...ids);
  }

  /** Jobs held in tenants' backlogs (BullMQ counts them as delayed): one ZCARD per such tenant. */
  async heldCount(): Promise<number> {
    const tenants = await this.redis.smembers(this.keys.members);
    if (tenants.length === 0) return 0;
    const p = this.redis.pipeline();
    for (const t of tenants) p.zcard(this.keys.backlogPrefix + t);
    return ((await p.exec()) ?? []).reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
  }

  /** Releases ids a crashed mover took but never released. */
  async sweep(queue: Queue, olderThanMs: number, now = Date.now()): Promise<number> {
    const all = await this.redis.hgetall(this.keys.inflight);
    const stale = Object.entries(all)
      .filter(([, at]) => now - Number(at) > olderThanMs)
      .map(([id]) => id);
    await this.release(queue, stale);
    return stale.length;
  }
}
