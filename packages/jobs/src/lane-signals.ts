import type { Lane, WorkerInfo } from '@switchyard/contracts';
import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { jobKeys, type DelayReason, type JobKeys } from './keys.ts';

/** BullMQ's score in a lane's `prioritized` zset: priority × 2³² + a counter (FIFO per priority). */
const PRIORITY_SPAN = 0x100000000;
/** Job priorities (contracts: 1 runs first, 10 last). */
const PRIORITIES = Array.from({ length: 10 }, (_, i) => i + 1);
const MINUTE = 60_000;

/**
 * Full minutes of finished jobs the lanes report shows. They are counted from the `completed` and
 * `failed` sets (scored by when each job finished), so the workers' finishing script writes
 * nothing for them; a retention (`jobs.retentionSeconds`) shorter than this shortens the history.
 */
export const FINISHED_MINUTES_KEPT = 60;

/**
 * Notes jobs a worker delays without spending an attempt (no egress, host politeness), so the
 * lanes report can say why jobs are delayed. One ZADD per delay, scored by when the job is due: a
 * job past its due time no longer counts, so nothing has to be removed when it runs again.
 */
export class LaneDelays {
  private readonly redis: Redis | Cluster;
  private readonly keys: JobKeys;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.keys = jobKeys(opts.prefix);
  }

  async note(lane: Lane, reason: DelayReason, jobId: string, until: number): Promise<void> {
    await this.redis.zadd(this.keys.delayedFor(lane, reason), until, jobId);
  }

  /** Jobs of the lane delayed for `reason` and not yet due; drops entries due an hour ago. */
  async count(lane: Lane, reason: DelayReason, now = Date.now()): Promise<number> {
    const key = this.keys.delayedFor(lane, reason);
    const [[, n]] = (await this.redis
      .multi()
      .zcount(key, `(${now}`, '+inf')
      .zremrangebyscore(key, '-inf', now - 3_600_000)
      .exec()) as [[Error | null, number]];
    return n;
  }
}

/**
 * The `minutes` full minutes before `now`'s minute, newest first, as `[from, to]` score ranges
 * (ms, both ends included) of the `completed` and `failed` sets, which BullMQ scores by when the
 * job finished.
 */
export function minuteRanges(now: number, minutes: number): [number, number][] {
  const thisMinute = Math.floor(now / MINUTE) * MINUTE;
  return Array.from({ length: minutes }, (_, i) => {
    const from = thisMinute - (i + 1) * MINUTE;
    return [from, from + MINUTE - 1];
  });
}

/** What one lane's BullMQ queue says, read in two round trips. */
export interface QueueFigures {
  ready: number;
  active: number;
  delayed: number;
  /** Submission time (ms) of the longest-waiting ready job, or null when none is ready. */
  oldestReadyAt: number | null;
  /** Jobs finished (completed + failed) per full minute, newest first, for the last hour (of those retained). */
  finishedPerMinute: number[];
}

/**
 * Reads a lane's queue figures: counts, the oldest ready job, and finished jobs per minute.
 * `client` is a connection to the queue's Redis (the caller's, so reads share its pipeline).
 */
export async function readQueueFigures(
  queue: Queue,
  client: Redis | Cluster,
  now = Date.now(),
): Promise<QueueFigures> {
  const heads = client.pipeline();
  // The next job of each priority is the oldest of that priority; ready jobs without a priority
  // (none today) wait in the `wait` list, oldest at its tail.
  for (const p of PRIORITIES)
    heads.zrangebyscore(
      queue.toKey('prioritized'),
      p * PRIORITY_SPAN,
      (p + 1) * PRIORITY_SPAN - 1,
      'LIMIT',
      0,
      1,
    );
  heads.lindex(queue.toKey('wait'), -1);
  const finished = client.pipeline();
  for (const [from, to] of minuteRanges(now, FINISHED_MINUTES_KEPT))
    for (const set of ['completed', 'failed']) finished.zcount(queue.toKey(set), from, to);
  const [counts, headReplies, finishedReplies] = await Promise.all([
    queue.getJobCounts('wait', 'prioritized', 'delayed', 'active'),
    heads.exec(),
    finished.exec(),
  ]);
  const ids = (headReplies ?? [])
    .map(([, r]) => (Array.isArray(r) ? r[0] : r) as string | null | undefined)
    .filter((id): id is string => typeof id === 'string');
  let oldestReadyAt: number | null = null;
  if (ids.length > 0) {
    const stamps = client.pipeline();
    for (const id of ids) stamps.hget(queue.toKey(id), 'timestamp');
    for (const [, ts] of (await stamps.exec()) ?? []) {
      const at = Number(ts);
      // A job taken (and finished) between the two reads has no hash or a later state: skip it.
      if (ts && Number.isFinite(at) && (oldestReadyAt === null || at < oldestReadyAt)) oldestReadyAt = at;
    }
  }
  const n = (finishedReplies ?? []).map(([, r]) => Number(r ?? 0));
  const perMinute = Array.from(
    { length: FINISHED_MINUTES_KEPT },
    (_, i) => (n[2 * i] ?? 0) + (n[2 * i + 1] ?? 0),
  );
  return {
    ready: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    oldestReadyAt,
    finishedPerMinute: perMinute,
  };
}

/**
 * A lane's figures over all its queues (a sharded batch lane's shards): counts and finished jobs
 * per minute add up, the oldest ready job is the oldest of any queue.
 */
export async function readLaneFigures(
  queues: readonly Queue[],
  client: Redis | Cluster,
  now = Date.now(),
): Promise<QueueFigures> {
  const each = await Promise.all(queues.map((q) => readQueueFigures(q, client, now)));
  return sumQueueFigures(each);
}

export function sumQueueFigures(each: readonly QueueFigures[]): QueueFigures {
  const oldest = each.flatMap((f) => (f.oldestReadyAt === null ? [] : [f.oldestReadyAt]));
  return {
    ready: each.reduce((n, f) => n + f.ready, 0),
    active: each.reduce((n, f) => n + f.active, 0),
    delayed: each.reduce((n, f) => n + f.delayed, 0),
    oldestReadyAt: oldest.length ? Math.min(...oldest) : null,
    finishedPerMinute: Array.from({ length: FINISHED_MINUTES_KEPT }, (_, i) =>
      each.reduce((n, f) => n + (f.finishedPerMinute[i] ?? 0), 0),
    ),
  };
}

/**
 * Worker processes announce themselves here: each writes a heartbeat every `worker.heartbeatMs`
 * and removes it when it stops; one not heard from for three heartbeats is gone (crashed or cut
 * off) and is dropped the next time the list is read.
 */
export class WorkerRegistry {
  private readonly redis: Redis | Cluster;
  private readonly keys: JobKeys;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.keys = jobKeys(opts.prefix);
  }

  async beat(info: Omit<WorkerInfo, 'last_heartbeat_at'>, now = Date.now()): Promise<void> {
    const record: WorkerInfo = { ...info, last_heartbeat_at: new Date(now).toISOString() };
    await this.redis
      .multi()
      .hset(this.keys.workers, info.id, JSON.stringify(record))
      .zadd(this.keys.workerBeats, now, info.id)
      .exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().hdel(this.keys.workers, id).zrem(this.keys.workerBeats, id).exec();
  }

  /** Workers heard from within `timeoutMs`, most recently started first. */
  async live(timeoutMs: number, now = Date.now()): Promise<WorkerInfo[]> {
    const since = now - timeoutMs;
    const [ids, gone] = await Promise.all([
      this.redis.zrangebyscore(this.keys.workerBeats, since, '+inf'),
      this.redis.zrangebyscore(this.keys.workerBeats, '-inf', `(${since}`),
    ]);
    if (gone.length > 0)
      await this.redis
        .multi()
        .hdel(this.keys.workers, ...gone)
        .zrem(this.keys.workerBeats, ...gone)
        .exec();
    if (ids.length === 0) return [];
    const records = await this.redis.hmget(this.keys.workers, ...ids);
    return records
      .flatMap((r) => (r ? [JSON.parse(r) as WorkerInfo] : []))
      .sort((a, b) => b.started_at.localeCompare(a.started_at) || a.id.localeCompare(b.id));
  }
}
