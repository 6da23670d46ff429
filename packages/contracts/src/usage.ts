import type { Cost } from './cost.ts';

/** How `GET /v1/usage` groups its rows. */
export type UsageGroupBy = 'model' | 'day' | 'outcome';

/** One row of a usage report. */
export interface UsageRow {
  /** Model name (`(scrape)` for scrapes), `YYYY-MM-DD`, or outcome. */
  key: string;
  attempts: number;
  /** Attempts with `attempt > 1`. */
  retries: number;
  /** Every input token; the cached and cache-write ones are parts of it. */
  input_tokens: number;
  /** Every output token; the reasoning ones are a part of it. */
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  bytes: number;
  cost: Cost;
  /** What the retries cost. */
  retry_cost: Cost;
  /** Jobs answered from the response cache (ledger entries with outcome `cache_hit`, at $0). */
  cache_hits: number;
  /** What those answers cost when they were first made upstream. */
  saved_cost: Cost;
  /**
   * The part of the above whose tokens are estimated (streams cut before their usage arrived),
   * counted in the totals too: what a provider's bill may differ by.
   */
  estimated: { attempts: number; input_tokens: number; output_tokens: number; cost: Cost };
}

/** The answer to `GET /v1/usage`. */
export interface UsageReport {
  object: 'usage';
  group_by: UsageGroupBy;
  from: string;
  to: string;
  rows: UsageRow[];
  total: Omit<UsageRow, 'key'>;
  /** Retry nano-USD ÷ total nano-USD; 0 when nothing was spent. */
  retry_share: number;
}
