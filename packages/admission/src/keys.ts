/**
 * The hash tag of each batch-lane shard's keys (its BullMQ queue `{<tag>}` and its fair share),
 * by shard number. Shard 0 is `batch`, the lane's tag before it was sharded. The others are picked
 * so that on a cluster whose slots are split evenly between its masters (as `redis-cli --cluster
 * create` splits them), the first N shards' slots lie in N different N-ths of the slot range, for
 * every N up to 12: N shards on N masters land one per master (slots 1318, 15309, 7800, 12115,
 * 3836, 9389, 6014, 13666, 2416, 10650, 5354, 12589). Fixed, so a job's keys never move.
 */
export const BATCH_SHARD_TAGS = [
  'batch',
  'batch-1',
  'batch-2-163',
  'batch-3-0',
  'batch-4-21',
  'batch-5-60',
  'batch-6-163',
  'batch-7-23',
  'batch-8-58',
  'batch-9-8',
  'batch-10-60',
  'batch-11-72',
] as const;

/** The hash tag of batch shard `shard` (see BATCH_SHARD_TAGS). */
export function batchShardTag(shard: number): string {
  const tag = BATCH_SHARD_TAGS[shard];
  if (tag === undefined)
    throw new RangeError(`no batch shard ${shard} (0 to ${BATCH_SHARD_TAGS.length - 1})`);
  return tag;
}

/** Keys of the batch lane's fair share; every one carries the batch queue's hash tag. */
export interface FairKeys {
  /** List of tenants with a backlog, in round-robin order. */
  readonly ring: string;
  /** Set of the same tenants, for O(1) membership. */
  readonly members: string;
  /** Hash of job ids taken by a mover and not yet released (id -> ms). */
  readonly inflight: string;
  /** A tenant's backlog (zset of job ids by priority, then submission) is this followed by the tenant id. */
  readonly backlogPrefix: string;
}

/** Keys counting a tenant's jobs (see TenantLoad): zsets of jobId -> expiry (ms). */
export interface TenantLoadKeys {
  /** Jobs admitted and not finished. */
  readonly open: string;
  /** Jobs a worker has started and not finished. */
  readonly started: string;
}

/** Redis key names of admission. */
export interface AdmissionKeys {
  /** Fair share inside the batch lane (`<prefix>:fair:{batch}:…`): shard 0's. */
  readonly fair: FairKeys;
  /**
   * Fair share of one batch-lane shard, in that shard's queue slot: shard 0 is `fair`, shard n is
   * `<prefix>:fair:{<tag>}:…` with the tag of the shard's queue (`batchShardTag`).
   */
  fairShard(shard: number): FairKeys;
  /** What counts against a tenant's job limits (`<prefix>:load:{<tenantId>}:…`, the tenant id as hash tag). */
  tenantLoad(tenantId: string): TenantLoadKeys;
}

/** Every key name of admission, built from the deployment's key prefix (no spaces or braces). */
export function admissionKeys(prefix: string): AdmissionKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  const fairShard = (shard: number): FairKeys => {
    const fair = `${prefix}:fair:{${batchShardTag(shard)}}`;
    return {
      ring: `${fair}:ring`,
      members: `${fair}:members`,
      inflight: `${fair}:inflight`,
      backlogPrefix: `${fair}:t:`,
    };
  };
  return {
    fair: fairShard(0),
    fairShard,
    tenantLoad: (tenantId) => {
      const base = `${prefix}:load:{${tenantId}}`;
      return { open: `${base}:open`, started: `${base}:started` };
    },
  };
}
