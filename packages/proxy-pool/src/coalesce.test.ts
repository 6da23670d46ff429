import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalesce.ts';

describe('Coalescer', () => {
  it('sends the items of one tick together, in calls of equal size up to max, in order', async () => {
    const sent: number[][] = [];
    const c = new Coalescer<number, number>(4, async (items) => {
      sent.push(items);
      return items.map((i) => i * 10);
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => c.submit(i)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await c.submit(7)).toBe(70);
    expect(sent.at(-1)).toEqual([7]);
  });

  it('a failed call rejects every caller of that call, and only those', async () => {
    const c = new Coalescer<number, number>(2, async (items) => {
      if (items.includes(3)) throw new Error('boom');
      return items;
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => c.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    // a synchronous throw and a short answer reject too
    const sync = new Coalescer<number, number>(8, () => {
      throw new Error('sync');
    });
    await expect(sync.submit(1)).rejects.toThrow('sync');
    const short = new Coalescer<number, number>(8, async () => [1]);
    await expect(Promise.all([short.submit(1), short.submit(2)])).rejects.toThrow(/answered 1 of 2/);
  });
});
