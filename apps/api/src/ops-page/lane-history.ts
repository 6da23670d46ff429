import type { LaneSample, LanesReport } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { opsPageKeys, type OpsPageKeys } from './keys.ts';

/** Where the lanes' figures come from (the LaneMonitor behind `GET /v1/admin/lanes`). */
export interface LaneSource {
  report(): Promise<LanesReport>;
}

/** Samples kept: one a minute over the last hour. */
export const HISTORY_MINUTES = 60;
const MINUTE_MS = 60_000;

/**
 * The lanes chart's history: one sample a minute, fleet-wide, in a capped Redis list. Every API
 * replica ticks a few times a minute; the first to claim the minute (SET NX on a key of that
 * minute) reads the lanes and pushes the sample, so replicas never duplicate a minute and a dead
 * one leaves no gap.
 */
export class LaneHistory {
  readonly #redis: Redis | Cluster;
  readonly #keys: OpsPageKeys;
  readonly #lanes: LaneSource;

  constructor(opts: { redis: Redis | Cluster; prefix: string; lanes: LaneSource }) {
    this.#redis = opts.redis;
    this.#keys = opsPageKeys(opts.prefix);
    this.#lanes = opts.lanes;
  }

  /** Takes this minute's sample unless a replica already has; true when this call took it. */
  async tick(now = Date.now()): Promise<boolean> {
    const minute = Math.floor(now / MINUTE_MS);
    const claimed = await this.#redis.set(this.#keys.laneSampleClaim(minute), '1', 'PX', 2 * MINUTE_MS, 'NX');
    if (claimed !== 'OK') return false;
    const report = await this.#lanes.report();
    const sample: LaneSample = {
      t: minute * MINUTE_MS,
      lanes: report.lanes.map((l) => ({
        lane: l.lane,
        ready: l.ready,
        active: l.active,
        delayed: l.delayed.total,
      })),
    };
    await this.#redis
      .multi()
      .lpush(this.#keys.laneHistory, JSON.stringify(sample))
      .ltrim(this.#keys.laneHistory, 0, HISTORY_MINUTES - 1)
      .exec();
    return true;
  }

  /** The last hour's samples, oldest first. */
  async read(now = Date.now()): Promise<LaneSample[]> {
    const raw = await this.#redis.lrange(this.#keys.laneHistory, 0, HISTORY_MINUTES - 1);
    const since = now - HISTORY_MINUTES * MINUTE_MS;
    return raw
      .flatMap((s) => {
        try {
          return [JSON.parse(s) as LaneSample];
        } catch {
          return [];
        }
      })
      .filter((s) => s.t >= since)
      .reverse();
  }
}
