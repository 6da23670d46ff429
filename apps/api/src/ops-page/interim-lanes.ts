import { LANES, type LanesReport } from '@switchyard/contracts';
import type { JobStore } from '@switchyard/jobs';
import type { LaneSource } from './lane-history.ts';

/**
 * THROWAWAY until the LaneMonitor (apps/api/src/ops/lane-monitor.ts, `GET /v1/admin/lanes`) lands:
 * BullMQ's counts only, no reasons, ages, throughput or workers. Replaced by the monitor on merge.
 */
export function interimLanes(store: Pick<JobStore, 'queues'>): LaneSource {
  return {
    async report(): Promise<LanesReport> {
      const counts = await Promise.all(
        LANES.map((lane) => store.queues[lane].getJobCounts('waiting', 'prioritized', 'active', 'delayed')),
      );
      return {
        object: 'lanes',
        at: new Date().toISOString(),
        lanes: LANES.map((lane, i) => {
          const c = counts[i] ?? {};
          const delayed = c.delayed ?? 0;
          return {
            lane,
            ready: (c.waiting ?? 0) + (c.prioritized ?? 0),
            active: c.active ?? 0,
            delayed: { total: delayed, retrying: delayed, fair_share: 0, egress: 0, host: 0 },
            oldest_ready_age_s: null,
            finished_per_second: { last_1m: 0, last_5m: 0 },
            workers: 0,
            slots: 0,
          };
        }),
        workers: [],
      };
    },
  };
}
