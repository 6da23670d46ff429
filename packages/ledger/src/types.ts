import type { AttemptOutcome, Lane } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';

export type AttemptKind = 'completion' | 'scrape';

/** One upstream attempt of a job. `(jobId, attempt)` is its identity. */
export interface AttemptEntry {
  jobId: string;
  /** 1-based; every attempt after the first is a retry. */
  attempt: number;
  tenantId: string;
  lane: Lane;
  kind: AttemptKind;
  /** e.g. `openai`; null for scrapes. */
  provider: string | null;
  /** Public model name; null for scrapes. */
  model: string | null;
  proxyId: string | null;
  /** `cache_hit` (answered from the response cache) is always at $0, with no tokens. */
  outcome: AttemptOutcome;
  /** The worker died mid-attempt; tokens are unknown and recorded as 0. */
  interrupted: boolean;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  /** Parts of `inputTokens` read from / written to the provider's prompt cache; absent = 0. */
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  /** Part of `outputTokens` the model spent reasoning; absent = 0. */
  reasoningTokens?: number;
  /**
   * The stream was cut before its usage arrived: the tokens are estimated with a tokenizer (and the
   * cost from them), and usage counts them apart. Absent = false.
   */
  estimated?: boolean;
  /** Bytes through the proxy. */
  bytes: number;
  /** Integer nano-USD, computed by the caller: tokens × model price + bytes × proxy price. */
  costNanos: number;
  /** Epoch ms when the attempt started; its UTC day buckets the aggregates. */
  at: number;
}

/** What `Ledger.record` did, and the job's total cost over its recorded attempts (nano-USD). */
export interface RecordResult {
  status: 'recorded' | 'duplicate';
  jobCostNanos: number;
}

export interface JobTotals {
  attempts: number;
  costNanos: number;
  inputTokens: number;
  outputTokens: number;
  bytes: number;
}

import type { UsageGroupBy } from '@switchyard/contracts';

export type { UsageGroupBy, UsageReport, UsageRow } from '@switchyard/contracts';

export interface UsageQuery {
  /** First UTC day, `YYYY-MM-DD`, inclusive. */
  from: string;
  /** Last UTC day, `YYYY-MM-DD`, inclusive; at most 366 days after `from`, counting both. */
  to: string;
  groupBy: UsageGroupBy;
}

export interface LedgerOptions {
  redis: Redis | Cluster;
  /** Key prefix shared with the rest of the deployment, e.g. `sy`; no spaces or braces. */
  prefix: string;
  /** Lifetime of a job's entries and totals, from its last recorded attempt. */
  entryTtlSeconds: number;
  /** Lifetime of a day's aggregates, from its last write; default 400 days. */
  aggregateTtlSeconds?: number;
}
