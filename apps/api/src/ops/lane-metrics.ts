import type { LanesReport } from '@switchyard/contracts';
import { Gauge, type Registry } from 'prom-client';
import type { LaneMonitor } from './lane-monitor.ts';

type Labels = 'lane' | 'reason' | 'window';

/**
 * The lanes report as Prometheus gauges on the API's `/metrics` (what KEDA and the alerts key on,
 * infra/). Fleet-wide figures: every API replica reports the same, so aggregate with `max`.
 */
export function registerLaneMetrics(registry: Registry, monitor: LaneMonitor): void {
  const gauge = (
    name: string,
    help: string,
    labelNames: Labels[],
    set: (g: Gauge<Labels>, report: LanesReport) => void,
  ) =>
    new Gauge<Labels>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        // Redis down: keep the last values rather than fail the whole scrape (/readyz says why).
        const report = await monitor.report().catch(() => undefined);
        if (report) set(this, report);
      },
    });
  gauge('switchyard_lane_ready_jobs', 'Jobs a worker could take now, per lane', ['lane'], (g, r) => {
    for (const l of r.lanes) g.set({ lane: l.lane }, l.ready);
  });
  gauge('switchyard_lane_active_jobs', 'Jobs running on a worker, per lane', ['lane'], (g, r) => {
    for (const l of r.lanes) g.set({ lane: l.lane }, l.active);
  });
  gauge(
    'switchyard_lane_delayed_jobs',
    'Jobs held back per lane, by reason: retrying (backing off), fair_share (batch backlog), egress (no proxy capacity), host (politeness)',
    ['lane', 'reason'],
    (g, r) => {
      for (const l of r.lanes)
        for (const reason of ['retrying', 'fair_share', 'egress', 'host'] as const)
          g.set({ lane: l.lane, reason }, l.delayed[reason]);
    },
  );
  gauge(
    'switchyard_lane_oldest_ready_seconds',
    'Seconds since submission of the longest-waiting ready job, per lane (0 when none is ready)',
    ['lane'],
    (g, r) => {
      for (const l of r.lanes) g.set({ lane: l.lane }, l.oldest_ready_age_s ?? 0);
    },
  );
  gauge(
    'switchyard_lane_finished_per_second',
    'Jobs finished (succeeded or failed) per second, per lane, over the last full 1 or 5 minutes',
    ['lane', 'window'],
    (g, r) => {
      for (const l of r.lanes) {
        g.set({ lane: l.lane, window: '1m' }, l.finished_per_second.last_1m);
        g.set({ lane: l.lane, window: '5m' }, l.finished_per_second.last_5m);
      }
    },
  );
  gauge('switchyard_lane_workers', 'Live worker processes serving the lane', ['lane'], (g, r) => {
    for (const l of r.lanes) g.set({ lane: l.lane }, l.workers);
  });
  gauge(
    'switchyard_lane_worker_slots',
    'Job slots of the live workers serving the lane (their summed concurrency on it)',
    ['lane'],
    (g, r) => {
      for (const l of r.lanes) g.set({ lane: l.lane }, l.slots);
    },
  );
}
