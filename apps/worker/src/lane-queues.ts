import { FairMover, FairShare } from '@switchyard/admission';
import type { Config } from '@switchyard/config';
import type { Lane } from '@switchyard/contracts';
import { jobKeys, type RedisClient } from '@switchyard/jobs';
import type { Logger } from '@switchyard/telemetry';
import { Queue } from 'bullmq';

/** One BullMQ queue a worker serves: a lane's, or one shard of a sharded batch lane. */
export interface ServedQueue {
  lane: Lane;
  /** The batch-lane shard (0 for the interactive lane and an unsharded batch lane). */
  shard: number;
  /** BullMQ queue name (`{interactive}`, `{batch}`, `{batch-1}`…). */
  name: string;
  /** This queue's BullMQ Worker concurrency. */
  concurrency: number;
}

/**
 * A lane's slots split over its `shards` queues: as even as it goes, the first shards taking the
 * remainder, and at least one each (a shard without a slot would never run). Split rather than
 * shared because a BullMQ Worker fetches only as many jobs as it has free slots: a limit shared
 * across Workers would leave jobs fetched and locked but not running. Jobs spread evenly over the
 * shards (ADR 0026), so a busy lane keeps every slot busy.
 */
export function shardConcurrency(total: number, shards: number): number[] {
  const base = Math.floor(total / shards);
  return Array.from({ length: shards }, (_, i) => Math.max(1, base + (i < total % shards ? 1 : 0)));
}

/** The queues a worker with this config serves, each with its concurrency. */
export function servedQueues(config: Config): ServedQueue[] {
  const keys = jobKeys(config.redis.prefix);
  return config.worker.lanes.flatMap((lane) => {
    const total = config.worker.concurrency[lane];
    const split = lane === 'batch' ? shardConcurrency(total, config.lanes.batch.shards) : [total];
    return split.map((concurrency, shard) => ({
      lane,
      shard,
      name: keys.queueName(lane, shard),
      concurrency,
    }));
  });
}

/** Slots per served lane, as the worker's heartbeat reports them (a sharded lane's summed). */
export function laneSlots(config: Config): Partial<Record<Lane, number>> {
  const slots: Partial<Record<Lane, number>> = {};
  for (const q of servedQueues(config)) slots[q.lane] = (slots[q.lane] ?? 0) + q.concurrency;
  return slots;
}

/**
 * Fair share between tenants on the batch lane, when this worker serves it and fairness is on: one
 * mover per shard, refilling that shard's queue from that shard's ring. Started; stop them.
 */
export function startFairMovers(config: Config, commands: RedisClient, logger: Logger): FairMover[] {
  if (!config.fairness.enabled) return [];
  const { prefix } = config.redis;
  const fair = new FairShare({ redis: commands, prefix, shards: config.lanes.batch.shards });
  return servedQueues(config)
    .filter((q) => q.lane === 'batch')
    .map(({ shard, name }) => {
      const mover = new FairMover({
        fair,
        shard,
        queue: new Queue(name, { connection: commands, prefix }),
        // Each shard's own buffer, not a share of one: a mover refills only its shard, and a
        // split buffer ran dry between rounds (docs/adr/0026-sharded-batch-lane.md).
        buffer: config.fairness.bufferJobs,
        onError: (err) => logger.warn({ err, shard }, 'fair-share mover failed a round'),
      });
      mover.start();
      return mover;
    });
}
