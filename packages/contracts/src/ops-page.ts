import type { BatchStatus } from './batches.ts';
import type { Lane } from './lanes.ts';
import type { LanesReport } from './ops.ts';

/** One job that failed for good, as the worker recorded it (a capped list, newest first). */
export interface FailureRecord {
  at: string;
  /** A catalog code (docs/errors.md). */
  code: string;
  /** The job's failure message, cut to 200 characters. */
  message: string;
  job_id: string;
  tenant_id: string;
  lane: Lane;
  /** The requested model of a completion; null for a scrape. */
  model: string | null;
}

/** Recent failures with one code: how many, and the newest of them. */
export interface FailureGroup {
  code: string;
  count: number;
  last: FailureRecord;
}

/** A lane's numbers at one minute, for the page's chart. */
export interface LaneSample {
  /** Epoch ms of the minute. */
  t: number;
  lanes: { lane: Lane; ready: number; active: number; delayed: number }[];
}

/** One proxy of the pool, as the page shows it (URL redacted). */
export interface ProxyRow {
  id: string;
  url: string;
  state: 'available' | 'cooling' | 'quarantined' | 'draining';
  in_flight: number;
  max_concurrency: number;
  consecutive_faults: number;
  /** Epoch ms, when quarantined. */
  quarantined_until: number | null;
  /** (host, until epoch ms) pairs cooling after a rate limit, and banned after repeated blocks. */
  cooling: { host: string; until: number }[];
  banned: { host: string; until: number }[];
}

/** One model's share of a tenant's spend today. */
export interface TenantModelSpend {
  model: string;
  attempts: number;
  retries: number;
  spend_usd: number;
  /** What retries cost ÷ what the model cost; 0 when nothing was spent. */
  retry_share: number;
}

/** A tenant's spend today (UTC) against its daily budget. */
export interface TenantSpend {
  id: string;
  name: string;
  daily_budget_usd: number | null;
  spend_usd: number;
  retry_share: number;
  models: TenantModelSpend[];
}

/** A recent batch of any tenant, with its progress. */
export interface BatchProgress {
  id: string;
  tenant_id: string;
  status: BatchStatus;
  total: number;
  succeeded: number;
  failed: number;
  canceled: number;
  queued_or_running: number;
  created_at: string;
}

/** The answer to `GET /admin/api/overview`: everything the ops page shows. */
export interface OpsOverview {
  object: 'ops_overview';
  at: string;
  lanes: LanesReport;
  /** One sample a minute over the last hour, oldest first. */
  history: LaneSample[];
  proxies: ProxyRow[];
  tenants: TenantSpend[];
  /** Groups of the last `failures.window` terminal failures, the most frequent first. */
  failures: { window: number; groups: FailureGroup[] };
  batches: BatchProgress[];
}
