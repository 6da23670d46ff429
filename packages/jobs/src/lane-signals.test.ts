import { describe, expect, it } from 'vitest';
import { minuteRanges } from './lane-signals.ts';

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
