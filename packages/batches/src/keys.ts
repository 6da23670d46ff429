/** The keys of one batch; they share the tenant's hash tag, so a script can touch all of them. */
export interface OneBatchKeys {
  /** Hash: fingerprint, counts, cost, created_at, webhook_url (see lua/batch-finalize-4.lua). */
  readonly batch: string;
  /** List of `<job id> <custom_id>` entries, in line order. */
  readonly jobs: string;
  /** Hash of job id -> outcome, for jobs already finished. */
  readonly done: string;
  /** A request's own list of entries is this followed by a random suffix, until finalize renames it. */
  readonly staging: string;
}

/** Redis key names of batches. */
export interface BatchKeys {
  /** One batch's keys, `<prefix>:batch:{<tenantId>}:<batchId>…`. */
  batch(tenantId: string, batchId: string): OneBatchKeys;
}

/** Every key name of batches, built from the deployment's key prefix (no spaces or braces). */
export function batchKeys(prefix: string): BatchKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    batch: (tenantId, batchId) => {
      const base = `${prefix}:batch:{${tenantId}}:${batchId}`;
      return { batch: base, jobs: `${base}:jobs`, done: `${base}:done`, staging: `${base}:staging:` };
    },
  };
}
