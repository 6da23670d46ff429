/** The keys of one batch; they share the tenant's hash tag, so a script can touch all of them. */
export interface OneBatchKeys {
  /** Hash: fingerprint, counts, cost, created_at, webhook_url (see lua/batch-finalize-4.lua). */
  batch: string;
  /** List of `<job id> <custom_id>` entries, in line order. */
  jobs: string;
  /** Hash of job id -> outcome, for jobs already finished. */
  done: string;
  /** A request's own list of entries is this followed by a random suffix, until finalize renames it. */
  staging: string;
}

/** Every Redis key name of batches, built from the deployment's key prefix. */
export class BatchKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  batch(tenantId: string, batchId: string): OneBatchKeys {
    const base = `${this.prefix}:batch:{${tenantId}}:${batchId}`;
    return { batch: base, jobs: `${base}:jobs`, done: `${base}:done`, staging: `${base}:staging:` };
  }
}
