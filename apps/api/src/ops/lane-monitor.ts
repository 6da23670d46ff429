import type { FairShare } from '@switchyard/admission';
import { LANES, type LaneSignals, type LanesReport } from '@switchyard/contracts';
import { LaneDelays, readLaneFigures, WorkerRegistry, type JobStore } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';

export interface LaneMonitorOptions {
  redis: Redis | Cluster;
  prefix: string;
  store: JobStore;
  /** The batch lane's fair share, when enabled: its held jobs are part of the delayed count. */
  fair: FairShare | undefined;
  /** `worker.heartbeatMs`: a worker not heard from for three of these is gone. */
  heartbeatMs: number;
  /** How long one reading serves every caller (the endpoint and each gauge of a scrape). */
  cacheMs?: number;
}

/**
 * The lanes as an autoscaler and a person need them (`GET /v1/admin/lanes`, the lane gauges on
 * `/metrics`, the ops page): fleet-wide figures read from Redis, so every API replica reports the
 * same numbers. One reading is shared by the callers of the next `cacheMs`.
 */
export class LaneMonitor {
  private readonly opts: LaneMonitorOptions;
  private readonly delays: LaneDelays;
  private readonly workers: WorkerRegistry;
  private last: { at: number; report: Promise<LanesReport> } | undefined;

  constructor(opts: LaneMonitorOptions) {
    this.opts = opts;
    this.delays = new LaneDelays(opts);
    this.workers = new WorkerRegistry(opts);
  }

  report(now = Date.now()): Promise<LanesReport> {
    const age = this.last ? now - this.last.at : Infinity;
    if (this.last && age >= 0 && age < (this.opts.cacheMs ?? 1_000)) return this.last.report;
    const report = this.read(now);
    this.last = { at: now, report };
    // A failed reading is not served to later callers.
    report.catch(() => {
      if (this.last?.report === report) this.last = undefined;
    });
    return report;
  }

  private async read(now: number): Promise<LanesReport> {
    const workers = await this.workers.live(3 * this.opts.heartbeatMs, now);
    const lanes = await Promise.all(
      LANES.map(async (lane): Promise<LaneSignals> => {
        const [q, egress, host, fairShare] = await Promise.all([
          // A sharded batch lane's figures are the sum over its shards.
          readLaneFigures(this.opts.store.queuesOf(lane), this.opts.redis, now),
          this.delays.count(lane, 'egress', now),
          this.delays.count(lane, 'host', now),
          lane === 'batch' && this.opts.fair ? this.opts.fair.heldCount() : 0,
        ]);
        const serving = workers.filter((w) => w.lanes.includes(lane));
        const perMinute = q.finishedPerMinute;
        const sum = (n: number) => perMinute.slice(0, n).reduce((a, b) => a + b, 0);
        return {
          lane,
          ready: q.ready,
          active: q.active,
          delayed: {
            total: q.delayed,
            // What is not held or waiting for egress or a host is backing off before a retry.
            retrying: Math.max(0, q.delayed - fairShare - egress - host),
            fair_share: fairShare,
            egress,
            host,
          },
          oldest_ready_age_s: q.oldestReadyAt === null ? null : Math.max(0, (now - q.oldestReadyAt) / 1000),
          finished_per_second: { last_1m: sum(1) / 60, last_5m: sum(5) / 300 },
          finished_per_minute: perMinute,
          workers: serving.length,
          slots: serving.reduce((n, w) => n + (w.concurrency[lane] ?? 0), 0),
        };
      }),
    );
    return { object: 'lanes', at: new Date(now).toISOString(), lanes, workers };
  }
}
