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
  /** List of rejected lines (LineRejection JSON, in line order) of a batch created from a file. */
  readonly rejected: string;
}

/** Redis key names of batches. */
export interface BatchKeys {
  /** One batch's keys, `<prefix>:batch:{<tenantId>}:<batchId>…`. */
  batch(tenantId: string, batchId: string): OneBatchKeys;
  /** Sorted set of the tenant's batch ids, scored by creation time (ms): `GET /v1/batches`. */
  index(tenantId: string): string;
}

/** Every key name of batches, built from the deployment's key prefix (no spaces or braces). */
export function batchKeys(prefix: string): BatchKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    batch: (tenantId, batchId) => {
      const base = `${prefix}:batch:{${tenantId}}:${batchId}`;
      const staging = `${base}:staging:`;
      return {
        batch: base,
        jobs: `${base}:jobs`,
        done: `${base}:done`,
        staging,
        rejected: `${base}:rejected`,
      };
    },
    index: (tenantId) => `${prefix}:batches:{${tenantId}}`,
  };
}

/** Redis key names of uploaded files; a tenant's files share its hash tag. */
export interface FileKeys {
  /** Hash: filename, purpose, bytes, lines, created_at (ms). */
  meta(tenantId: string, fileId: string): string;
  /** List of compressed chunks, in order (one gzip stream cut into pieces). */
  chunks(tenantId: string, fileId: string): string;
  /** An upload's chunks until it completes (then renamed to `chunks`). */
  upload(tenantId: string, fileId: string): string;
  /** Sorted set of the tenant's file ids, scored by creation time (ms). */
  index(tenantId: string): string;
}

export function fileKeys(prefix: string): FileKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  const base = (tenantId: string, fileId: string) => `${prefix}:file:{${tenantId}}:${fileId}`;
  return {
    meta: base,
    chunks: (t, f) => `${base(t, f)}:chunks`,
    upload: (t, f) => `${base(t, f)}:upload`,
    index: (t) => `${prefix}:files:{${t}}`,
  };
}
