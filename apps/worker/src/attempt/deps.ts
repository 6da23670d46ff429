import type { Ledger } from '@switchyard/ledger';
import type { TenantLoad } from '@switchyard/admission';
import type { LaneDelays } from '@switchyard/jobs';
import type { Logger } from '@switchyard/telemetry';
import type { AttemptState } from '../attempt-state.ts';
import type { CancelFlags } from '../cancel-flags.ts';
import type { CompletionCache } from '../completion-cache.ts';
import type { DeltaRelays } from '../delta-relay.ts';
import type { EgressRouter } from '../egress-router.ts';
import type { LedgerAhead } from '../ledger-ahead.ts';
import type { ScrapePoliteness } from '../politeness.ts';
import type { WorkerMetrics } from '../metrics.ts';
import type { RetryBudget } from '../retry-budget.ts';
import type { ScrapeCache } from '../scrape-cache.ts';
import type { Upstreams } from '../upstreams.ts';

/** What the processor's steps work with: a few collaborators, each an object with methods. */
export interface ProcessorDeps {
  logger: Logger;
  /** Attempts allowed per model, and the first backoff step (it doubles each attempt). */
  policy: { maxAttempts: number; backoffMs: number };
  /** The models and the web: one call per attempt. */
  upstreams: Pick<Upstreams, 'call' | 'providerOf'>;
  /** The way out of each attempt: direct, or a leased pool proxy. */
  egress: Pick<EgressRouter, 'acquire' | 'viaPool'>;
  cancels: Pick<CancelFlags, 'isCanceled'>;
  /** Per-job attempt numbers and the model in use, shared by every worker. */
  attempts: Pick<AttemptState, 'start' | 'unstart' | 'modelIndex' | 'nextModel' | 'countTlsFailure'>;
  budget: Pick<RetryBudget, 'countFirst' | 'allowRetry'>;
  /** Where attempts are written; idempotent by (job id, attempt). */
  ledger: Pick<Ledger, 'record'>;
  /** A first attempt's success is written without waiting (absent: every write is awaited). */
  ledgerAhead?: Pick<LedgerAhead, 'send'>;
  /** For streaming jobs: where deltas and the final event go (the API relays them as SSE). */
  relays: Pick<DeltaRelays, 'open'>;
  /** Per-tenant job limits: a job stops counting as queued when its first attempt starts. */
  load?: Pick<TenantLoad, 'started'>;
  metrics?: WorkerMetrics;
  /** Notes why a job is delayed without an attempt, for the lanes report (absent: not noted). */
  delays?: Pick<LaneDelays, 'note'>;
  /** Scrapes: robots.txt and per-host politeness, shared by the fleet (absent: neither). */
  politeness?: ScrapePoliteness;
  /** Stored scrape results for `max_age_s` reuse, per tenant. */
  scrapeCache?: Pick<ScrapeCache, 'get' | 'put'>;
  /** The exact-match response cache of completions, per tenant (absent: no cache). */
  completionCache?: Pick<CompletionCache, 'policy' | 'get' | 'put'>;
}
