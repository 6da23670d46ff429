/** Keys of the batch lane's fair share; every one carries the batch queue's hash tag. */
export interface FairKeys {
  /** List of tenants with a backlog, in round-robin order. */
  ring: string;
  /** Set of the same tenants, for O(1) membership. */
  members: string;
  /** Hash of job ids taken by a mover and not yet released (id -> ms). */
  inflight: string;
  /** A tenant's backlog (zset) is this followed by the tenant id. */
  backlogPrefix: string;
}

/** Keys counting a tenant's jobs (see TenantLoad): zsets of jobId -> expiry (ms). */
export interface TenantLoadKeys {
  /** Jobs admitted and not finished. */
  open: string;
  /** Jobs a worker has started and not finished. */
  started: string;
}

/** Every Redis key name of admission, built from the deployment's key prefix. */
export class AdmissionKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Fair share inside the batch lane; every key carries the batch queue's hash tag. */
  get fair(): FairKeys {
    const base = `${this.prefix}:fair:{batch}`;
    return {
      ring: `${base}:ring`,
      members: `${base}:members`,
      inflight: `${base}:inflight`,
      backlogPrefix: `${base}:t:`,
    };
  }

  /** What counts against a tenant's job limits; the tenant id is the hash tag. */
  tenantLoad(tenantId: string): TenantLoadKeys {
    const base = `${this.prefix}:load:{${tenantId}}`;
    return { open: `${base}:open`, started: `${base}:started` };
  }
}
