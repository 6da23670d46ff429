import { describe, expect, it } from 'vitest';
import { finishedPerMinute } from './lane-signals.ts';

const MIN = 60_000;

describe('finishedPerMinute: full minutes from BullMQ’s per-minute metrics', () => {
  it('puts the jobs since the last point in their minute, and older points before it', () => {
    // Last point written at minute 100 (for minute 99: 7 jobs; minute 98: 3); 5 jobs since.
    const m = { meta: { prevTS: 100 * MIN + 5_000, count: 20, prevCount: 15 }, data: [7, 3] };
    // Still minute 100: it is not full yet, so the newest full minute is 99.
    expect(finishedPerMinute(m, 100 * MIN + 30_000, 3)).toEqual([7, 3, 0]);
    // Minute 101: minute 100 is full now.
    expect(finishedPerMinute(m, 101 * MIN + 1, 3)).toEqual([5, 7, 3]);
  });

  it('counts minutes with no finished job as zero, and forgets what is older than asked', () => {
    const m = { meta: { prevTS: 100 * MIN, count: 20, prevCount: 15 }, data: [7, 3] };
    expect(finishedPerMinute(m, 103 * MIN, 4)).toEqual([0, 0, 5, 7]);
    expect(finishedPerMinute(m, 200 * MIN, 5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('reads zeros from a queue that never finished a job', () => {
    expect(
      finishedPerMinute({ meta: { prevTS: 0, count: 0, prevCount: 0 }, data: [] }, Date.now(), 2),
    ).toEqual([0, 0]);
  });
});
