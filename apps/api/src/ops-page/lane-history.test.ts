import type { LanesReport } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_MINUTES, LaneHistory } from './lane-history.ts';

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-05T03:00:00Z');

/** A lane source whose interactive lane has `ready` jobs; counts how often it was read. */
function lanes(ready: () => number) {
  const source = {
    reads: 0,
    async report(): Promise<LanesReport> {
      source.reads++;
      const lane = (name: 'interactive' | 'batch', n: number) => ({
        lane: name,
        ready: n,
        active: 1,
        delayed: { total: 2, retrying: 2, fair_share: 0, egress: 0, host: 0 },
        oldest_ready_age_s: null,
        finished_per_second: { last_1m: 0, last_5m: 0 },
        finished_per_minute: [],
        workers: 1,
        slots: 4,
      });
      return {
        object: 'lanes',
        at: new Date().toISOString(),
        lanes: [lane('interactive', ready()), lane('batch', 0)],
        workers: [],
      };
    },
  };
  return source;
}

describe('LaneHistory', () => {
  it('two replicas ticking in the same minute take one sample between them, read once', async () => {
    const prefix = `${handle.prefix}-one`;
    const source = lanes(() => 7);
    const a = new LaneHistory({ redis, prefix, lanes: source });
    const b = new LaneHistory({ redis, prefix, lanes: source });

    const took = await Promise.all([a.tick(T0 + 1_000), b.tick(T0 + 2_000), a.tick(T0 + 59_000)]);

    expect(took.filter(Boolean)).toHaveLength(1);
    expect(source.reads).toBe(1);
    expect(await b.read(T0 + 59_000)).toEqual([
      {
        t: T0,
        lanes: [
          { lane: 'interactive', ready: 7, active: 1, delayed: 2 },
          { lane: 'batch', ready: 0, active: 1, delayed: 2 },
        ],
      },
    ]);
  });

  it('keeps one sample a minute for the last hour, oldest first', async () => {
    const prefix = `${handle.prefix}-hour`;
    let minute = 0;
    const history = new LaneHistory({ redis, prefix, lanes: lanes(() => minute) });
    for (minute = 0; minute < 90; minute++)
      expect(await history.tick(T0 + minute * MINUTE + 5_000)).toBe(true);

    const now = T0 + 89 * MINUTE + 30_000;
    const samples = await history.read(now);
    expect(samples).toHaveLength(HISTORY_MINUTES);
    expect(samples[0]?.t).toBe(T0 + 30 * MINUTE);
    expect(samples.at(-1)?.t).toBe(T0 + 89 * MINUTE);
    expect(samples.map((s) => s.lanes[0]?.ready)).toEqual(Array.from({ length: 60 }, (_, i) => 30 + i));
    // An idle hour later nothing is recent enough to chart.
    expect(await history.read(now + 2 * HISTORY_MINUTES * MINUTE)).toEqual([]);
  });
});
