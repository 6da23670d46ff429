import type { Config } from './schema.ts';

/**
 * How long a job's attempt records (the ledger's entries, the attempt counters) live: an hour
 * past the job's own retention, so a job read at the end of its retention still has them.
 */
export function attemptTtlSeconds(config: Pick<Config, 'jobs'>): number {
  return config.jobs.retentionSeconds + 3600;
}
