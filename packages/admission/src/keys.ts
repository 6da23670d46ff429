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
   * `<prefix>:fair:{batch-n}:…` (the tag of the shard's queue `{batch-n}`).
   */
  fairShard(shard: number): FairKeys;
  /** What counts against a tenant's job limits (`<prefix>:load:{<tenantId>}:…`, the tenant id as hash tag). */
  tenantLoad(tenantId: string): TenantLoadKeys;
}

/** Every key name of admission, built from the deployment's key prefix (no spaces or braces). */
export function admissionKeys(prefix: string): AdmissionKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  const fairShard = (shard: number): FairKeys => {
    const fair = `${prefix}:fair:{${shard > 0 ? `batch-${shard}` : 'batch'}}`;
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
