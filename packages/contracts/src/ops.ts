import type { Lane } from './lanes.ts';

/**
 * Jobs of a lane held back in BullMQ's delayed set, by why. `fair_share`: batch jobs waiting in
 * their tenant's backlog (docs/adr/0005); `egress`: no proxy capacity; `host`: per-host politeness
 * (interval, concurrency, Retry-After, robots.txt); `retrying`: the rest, backing off before
 * another attempt.
 */
export interface LaneDelayed {
  total: number;
  retrying: number;
  fair_share: number;
  egress: number;
  host: number;
}

/** What an autoscaler and a person need to know about one lane (`GET /v1/admin/lanes`). */
export interface LaneSignals {
  lane: Lane;
  /** Jobs a worker could take now. */
  ready: number;
  /** Jobs a worker is running. */
  active: number;
  delayed: LaneDelayed;
  /**
   * Seconds since submission of the longest-waiting ready job (over every priority), null when
   * none is ready. A job that was delayed (retry, fair share, egress, host) counts from submission.
   */
  oldest_ready_age_s: number | null;
  /** Jobs that finished (succeeded or failed) per second, over the last full 1 and 5 minutes. */
  finished_per_second: { last_1m: number; last_5m: number };
  /** Jobs finished in each of the last 60 full minutes, newest first (for a chart). */
  finished_per_minute: number[];
  /** Live worker processes serving this lane, and their summed concurrency on it. */
  workers: number;
  slots: number;
}

/** A worker process, as its last heartbeat described it. */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  lanes: Lane[];
  /** Job slots per served lane. */
  concurrency: Partial<Record<Lane, number>>;
  /** Jobs running in this process now. */
  in_flight: number;
  started_at: string;
  last_heartbeat_at: string;
  /** Where Prometheus scrapes it (the bound port), or null when unknown. */
  metrics_url: string | null;
}

/** The answer to `GET /v1/admin/lanes`. */
export interface LanesReport {
  object: 'lanes';
  /** When the figures were read (ISO). */
  at: string;
  lanes: LaneSignals[];
  /** Live workers (heard from within three `worker.heartbeatMs`), most recently started first. */
  workers: WorkerInfo[];
}
