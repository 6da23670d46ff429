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
  input_tokens: number;
  output_tokens: number;
  bytes: number;
  cost: Cost;
  /** What the retries cost. */
  retry_cost: Cost;
  /** Jobs answered from the response cache (ledger entries with outcome `cache_hit`, at $0). */
  cache_hits: number;
  /** What those answers cost when they were first made upstream. */
  saved_cost: Cost;
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
