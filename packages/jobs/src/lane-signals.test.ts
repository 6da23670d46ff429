import { describe, expect, it } from 'vitest';
import { FINISHED_MINUTES_KEPT, minuteRanges, sumQueueFigures } from './lane-signals.ts';

const MIN = 60_000;

describe('minuteRanges: the full minutes the lanes report counts finished jobs in', () => {
  it('starts at the last full minute (the current one is not over) and goes back, newest first', () => {
    expect(minuteRanges(100 * MIN + 30_000, 3)).toEqual([
      [99 * MIN, 100 * MIN - 1],
      [98 * MIN, 99 * MIN - 1],
      [97 * MIN, 98 * MIN - 1],
    ]);
  });

  it('covers every millisecond once: ranges touch without overlapping', () => {
    const r = minuteRanges(Date.now(), 60);
    expect(r).toHaveLength(60);
    for (let i = 1; i < r.length; i++) expect(r[i]![1] + 1).toBe(r[i - 1]![0]);
    for (const [from, to] of r) expect(to - from).toBe(MIN - 1);
  });
});

describe('sumQueueFigures: a sharded lane reported as one', () => {
  it('adds counts and finished jobs per minute over the shards; the oldest ready job is the oldest of any shard', () => {
    const perMinute = (n: number) =>
      Array.from({ length: FINISHED_MINUTES_KEPT }, (_, i) => (i === 0 ? n : 0));
    const sum = sumQueueFigures([
      { ready: 1, active: 2, delayed: 3, oldestReadyAt: 500, finishedPerMinute: perMinute(4) },
      { ready: 10, active: 20, delayed: 30, oldestReadyAt: null, finishedPerMinute: perMinute(40) },
      { ready: 100, active: 200, delayed: 300, oldestReadyAt: 200, finishedPerMinute: perMinute(400) },
    ]);
    expect(sum).toMatchObject({ ready: 111, active: 222, delayed: 333, oldestReadyAt: 200 });
    expect(sum.finishedPerMinute).toEqual(perMinute(444));
    expect(sumQueueFigures([]).oldestReadyAt).toBeNull();
  });
});
