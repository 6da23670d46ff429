import type { ModelConfig } from '@switchyard/config';
import type { CompletionJobSpec, CompletionResult } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/** What a job's cache settings come to: look up and store with this TTL, or leave the cache alone. */
export interface CachePolicy {
  ttlS: number;
}

/**
 * Whether a completion uses the exact-match response cache, and for how long: the request's
 * `cache.ttl_s`, else its model's `cache.ttlS` (0 or neither: no cache). Only deterministic
 * requests are cached: `temperature: 0`, or `cache.nondeterministic` when the request says so.
 */
export function cachePolicy(
  spec: CompletionJobSpec,
  model: ModelConfig | undefined,
): CachePolicy | undefined {
  const ttlS = spec.cache?.ttl_s ?? model?.cache?.ttlS ?? 0;
  if (ttlS <= 0) return undefined;
  const deterministic = spec.request.temperature === 0 || spec.cache?.nondeterministic === true;
  return deterministic ? { ttlS } : undefined;
}

/** Sorted keys at every depth, so two requests that differ only in key order read the same. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
}

/**
 * The cache identity of a request: SHA-256 of its canonical JSON (model, messages and every
 * parameter), without `user`, which labels the caller and does not change the answer.
 */
export function requestCacheId(request: CompletionJobSpec['request']): string {
  const { user: _user, ...rest } = request;
  return createHash('sha256')
    .update(JSON.stringify(canonical(rest)))
    .digest('base64url');
}

/** A stored answer: when it was made, the result, and what its attempt cost (nano-USD). */
export interface StoredAnswer {
  at: number;
  result: CompletionResult;
  costNanos: number;
}

/**
 * The exact-match response cache: one tenant's answer to one request identity, in a Redis string
 * that lives the storing request's TTL. A lookup also refuses an answer older than its own TTL,
 * so each request gets what it asked for whoever stored the answer.
 */
export class CompletionCache {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly models: Record<string, ModelConfig>;

  constructor(opts: { redis: Redis | Cluster; prefix: string; models: Record<string, ModelConfig> }) {
    this.redis = opts.redis;
    this.prefix = opts.prefix;
    this.models = opts.models;
  }

  /** The job's {@link cachePolicy}, with its requested model's config. */
  policy(spec: CompletionJobSpec): CachePolicy | undefined {
    return cachePolicy(spec, this.models[spec.request.model]);
  }

  /** `<prefix>:completion-cache:<tenant>:<request id>`. */
  key(tenantId: string, request: CompletionJobSpec['request']): string {
    return `${this.prefix}:completion-cache:${tenantId}:${requestCacheId(request)}`;
  }

  async get(
    tenantId: string,
    spec: CompletionJobSpec,
    policy: CachePolicy,
    now = Date.now(),
  ): Promise<StoredAnswer | undefined> {
    const raw = await this.redis.get(this.key(tenantId, spec.request));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredAnswer;
    return now - stored.at <= policy.ttlS * 1000 ? stored : undefined;
  }

  async put(
    tenantId: string,
    spec: CompletionJobSpec,
    policy: CachePolicy,
    answer: StoredAnswer,
  ): Promise<void> {
    await this.redis.set(this.key(tenantId, spec.request), JSON.stringify(answer), 'EX', policy.ttlS);
  }
}
