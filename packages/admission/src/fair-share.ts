import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { admissionKeys, type FairKeys } from './keys.ts';
import { defineScripts, type ScriptRunner } from './scripts.ts';

export interface HeldJob {
  jobId: string;
  priority: number;
  /** Submission time (ms): FIFO within a priority. */
  at: number;
  /** The batch-lane shard the job is stored on (its queue); 0 when the lane is not sharded. */
  shard?: number;
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
 *
 * On a sharded lane (docs/adr/0026-sharded-batch-lane.md) every shard has its own backlogs and
 * ring, in its queue's slot: a job is held on the shard it is stored on, and each shard's mover
 * refills that shard's queue from that shard's ring. `shards` only matters to `heldCount`.
 */
export class FairShare {
  private readonly redis: Redis | Cluster;
  private readonly keys: (shard: number) => FairKeys;
  private readonly run: ScriptRunner;
  private readonly shards: number;

  constructor(opts: { redis: Redis | Cluster; prefix: string; shards?: number }) {
    this.redis = opts.redis;
    const keys = admissionKeys(opts.prefix);
    this.keys = (shard) => keys.fairShard(shard);
    this.run = defineScripts(opts.redis);
    this.shards = opts.shards ?? 1;
  }

  /** Priority first (1 runs first), then submission order; exact in a double. */
  static score(job: HeldJob): number {
    return job.priority * 1e13 + job.at;
  }

  /**
   * Puts jobs in their tenant's backlog on their shard (one script per shard, each in its shard's
   * slot); idempotent, so a replayed submission can repair a hold.
   */
  async hold(tenantId: string, jobs: HeldJob[]): Promise<number> {
    const byShard = new Map<number, HeldJob[]>();
    for (const j of jobs) {
      const group = byShard.get(j.shard ?? 0);
      if (group) group.push(j);
      else byShard.set(j.shard ?? 0, [j]);
    }
    const added = await Promise.all(
      [...byShard].map(async ([shard, held]) => {
        const f = this.keys(shard);
        const pairs = held.flatMap((j) => [FairShare.score(j), j.jobId]);
        return Number(
          await this.run('fair-hold', [f.backlogPrefix + tenantId, f.ring, f.members], [tenantId, ...pairs]),
        );
      }),
    );
    return added.reduce((a, b) => a + b, 0);
  }

  /** Takes up to `n` held job ids round-robin across tenants (noted in flight until released). */
  async take(n: number, now = Date.now(), shard = 0): Promise<string[]> {
    const f = this.keys(shard);
    return (await this.run(
      'fair-take',
      [f.ring, f.members, f.inflight],
      [n, now, f.backlogPrefix],
    )) as string[];
  }

  /**
   * One refill of `queue` (the batch lane, whose keys carry the same `{batch}` hash tag): up to
   * `buffer` ready jobs, taken round-robin and promoted in one script (`fair-refill-10.lua`). On a
   * sharded lane, `queue` is shard `shard`'s (both in the slot of the shard's tag).
   */
  async refill(queue: Queue, buffer: number, shard = 0): Promise<FairRefill> {
    const f = this.keys(shard);
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
  async release(queue: Queue, ids: string[], shard = 0): Promise<void> {
    const backend = queue.getBackend();
    await Promise.all(
      ids.map(async (id) => {
        // Not delayed any more (canceled and removed, or past its deadline and running): fine.
        await backend.promote(id).catch(() => undefined);
      }),
    );
    if (ids.length) await this.redis.hdel(this.keys(shard).inflight, ...ids);
  }

  /**
   * Jobs held in tenants' backlogs on every shard (BullMQ counts them as delayed): one ZCARD per
   * tenant with a backlog on a shard.
   */
  async heldCount(): Promise<number> {
    const perShard = await Promise.all(
      Array.from({ length: this.shards }, async (_, shard) => {
        const f = this.keys(shard);
        const tenants = await this.redis.smembers(f.members);
        if (tenants.length === 0) return 0;
        const p = this.redis.pipeline();
        for (const t of tenants) p.zcard(f.backlogPrefix + t);
        return ((await p.exec()) ?? []).reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
      }),
    );
    return perShard.reduce((a, b) => a + b, 0);
  }

  /** Releases ids a crashed mover took but never released. */
  async sweep(queue: Queue, olderThanMs: number, now = Date.now(), shard = 0): Promise<number> {
    const all = await this.redis.hgetall(this.keys(shard).inflight);
    const stale = Object.entries(all)
      .filter(([, at]) => now - Number(at) > olderThanMs)
      .map(([id]) => id);
    await this.release(queue, stale, shard);
    return stale.length;
  }
}
