import { describe, expect, it } from 'vitest';
import { Slots } from './slots.ts';

const settled = async (p: Promise<unknown>) => {
  let state = 'pending';
  p.then(
    () => (state = 'granted'),
    () => (state = 'failed'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('Slots', () => {
  it('grants up to its size at once, then serves waiters in order as holders release', async () => {
    const slots = new Slots(2);
    const a = await slots.acquire();
    await slots.acquire();
    const third = slots.acquire();
    const fourth = slots.acquire();
    expect([await settled(third), await settled(fourth)]).toEqual(['pending', 'pending']);
    a();
    a(); // a second release of the same slot frees nothing
    expect([await settled(third), await settled(fourth)]).toEqual(['granted', 'pending']);
  });

  it('a waiter whose signal aborts leaves the queue with the reason; an aborted signal is refused at once', async () => {
    const slots = new Slots(1);
    const holder = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort(new Error('canceled'));
    await expect(waiting).rejects.toThrow('canceled');
    holder();
    expect(await settled(next)).toBe('granted');
    await expect(slots.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('failWaiters rejects everyone waiting; holders keep their slots', async () => {
    const slots = new Slots(1);
    const holder = await slots.acquire();
    const waiting = slots.acquire();
    slots.failWaiters(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    holder();
    expect(await settled(slots.acquire())).toBe('granted');
  });
});
