import { createHash, randomBytes } from 'node:crypto';
import type { Lane } from '@switchyard/contracts';

/**
 * Job ids carry their lane (`ji_` interactive, `jb_` batch) and, on a sharded batch lane, their
 * shard (`jb<shard>_` for shards 1 and up; shard 0 keeps `jb_`), so a lookup goes straight to the
 * right queue without reading anything. Random ids are time-ordered (hex ms timestamp first) for
 * readable listings.
 */
const LANE_TAG: Record<Lane, string> = { interactive: 'ji_', batch: 'jb_' };

function tagOf(lane: Lane, shard: number): string {
  return lane === 'batch' && shard > 0 ? `jb${shard}_` : LANE_TAG[lane];
}

/** A new random id; `shard` only counts on the batch lane. */
export function newJobId(lane: Lane, shard = 0): string {
  return `${tagOf(lane, shard)}${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

/**
 * The job id an Idempotency-Key maps to: the same tenant and key always name the same job. On a
 * batch lane of `shards` shards the key's digest picks the shard, so jobs spread evenly.
 */
export function idempotentJobId(lane: Lane, tenantId: string, key: string, shards = 1): string {
  const digest = createHash('sha256').update(`${tenantId}\0${key}`).digest('hex').slice(0, 40);
  const shard = lane === 'batch' && shards > 1 ? parseInt(digest.slice(0, 8), 16) % shards : 0;
  return `${tagOf(lane, shard)}k${digest}`;
}

/** Shards 1 to 11 (`BATCH_SHARD_TAGS`). */
const JOB_ID = /^j(i|b([1-9]|1[01])?)_[0-9a-fk]{20,48}$/;

export function laneOfJobId(id: string): Lane | undefined {
  const m = /^j(i|b)(?:[1-9]|1[01])?_/.exec(id);
  if (!m) return undefined;
  if (m[1] === 'i') return id.startsWith(LANE_TAG.interactive) ? 'interactive' : undefined;
  return 'batch';
}

/** The batch-lane shard a job id names (0 for interactive ids and unsharded batch ids). */
export function shardOfJobId(id: string): number {
  const m = /^jb([1-9]|1[01])_/.exec(id);
  return m ? Number(m[1]) : 0;
}

export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}
