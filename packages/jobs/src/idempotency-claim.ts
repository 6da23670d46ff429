import { SwitchyardError } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/** What an Idempotency-Key's claim stores: the request's fingerprint and the job it names. */
interface IdempotencyRecord {
  fp: string;
  jobId: string;
}

/** The job a submission names; `key` is the Idempotency-Key claim this request made, if any. */
export interface Claim {
  jobId: string;
  replayed: boolean;
  key?: string;
}

export interface ClaimInput {
  redis: Redis | Cluster;
  /** The claim's Redis key, from the key's digest (the caller adds the tenant). */
  keyOf: (keyHash: string) => string;
  ttlSeconds: number;
  idempotencyKey: string;
  /** The id a new job gets for this key (derived, so a replay names the same job). */
  jobId: string;
  /** The request's fingerprint: the same key with a different body is refused. */
  fp: string;
}

/**
 * Claims an Idempotency-Key with one atomic command (SET NX GET), or returns the earlier claim:
 * no check-then-add window.
 */
export async function claimIdempotencyKey(input: ClaimInput): Promise<Claim> {
  const { redis, idempotencyKey, jobId, fp } = input;
  const keyHash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  const record: IdempotencyRecord = { fp, jobId };
  const key = input.keyOf(keyHash);
  const prev = await redis.set(key, JSON.stringify(record), 'EX', input.ttlSeconds, 'NX', 'GET');
  if (prev === null) return { jobId, replayed: false, key };
  const earlier = JSON.parse(prev) as IdempotencyRecord;
  if (earlier.fp !== fp) {
    throw new SwitchyardError(
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request body',
    );
  }
  return { jobId: earlier.jobId, replayed: true };
}
