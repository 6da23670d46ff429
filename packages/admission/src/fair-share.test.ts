import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairShare } from './fair-share.ts';
import { admissionKeys, type AdmissionKeys } from './keys.ts';

let handle: RedisHandle;
let redis: Redis;
let keys: AdmissionKeys;
let fair: FairShare;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  keys = admissionKeys(handle.prefix);
  fair = new FairShare({ redis, prefix: handle.prefix });
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

const held = (prefix: string, n: number, priority = 5, at = 1000) =>
  Array.from({ length: n }, (_, i) => ({ jobId: `${prefix}${i}`, priority, at: at + i }));

describe('fair share (fair-hold-3.lua, fair-take-3.lua)', () => {
  it('takes round-robin across tenants whatever their backlog size', async () => {
    await fair.hold('a', held('a', 1000));
    await fair.hold('b', held('b', 3));
    await fair.hold('c', held('c', 2));
    const first = await fair.take(9);
    expect(first).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    // b and c are empty now: only a is left in the ring.
    expect(await fair.take(2)).toEqual(['a4', 'a5']);
    expect(await redis.lrange(keys.fair.ring, 0, -1)).toEqual(['a']);
  });

  it('orders a tenant’s backlog by priority, then submission order; a replayed hold changes nothing', async () => {
    await fair.hold('p', [
      { jobId: 'late-urgent', priority: 1, at: 5000 },
      { jobId: 'early-normal', priority: 5, at: 1000 },
      { jobId: 'early-urgent', priority: 1, at: 2000 },
    ]);
    expect(await fair.hold('p', [{ jobId: 'late-urgent', priority: 1, at: 9999 }])).toBe(0);
    const taken: string[] = [];
    for (;;) {
      const ids = await fair.take(10);
      if (ids.length === 0) break;
      taken.push(...ids.filter((id) => ['late-urgent', 'early-normal', 'early-urgent'].includes(id)));
    }
    expect(taken).toEqual(['early-urgent', 'late-urgent', 'early-normal']);
  });

  it('released jobs move from delayed to ready; a crashed mover’s ids are released by the sweep', async () => {
    const own = `${handle.prefix}s`;
    const fair = new FairShare({ redis, prefix: own });
    const queue = new Queue('{batch}', { connection: redis, prefix: own });
    await queue.add('x', {}, { jobId: 'j1', delay: 60_000, priority: 5 });
    await queue.add('x', {}, { jobId: 'j2', delay: 60_000, priority: 5 });
    await fair.hold('q', [
      { jobId: 'j1', priority: 5, at: 1 },
      { jobId: 'j2', priority: 5, at: 2 },
    ]);
    const ids = await fair.take(10);
    expect(ids).toEqual(expect.arrayContaining(['j1', 'j2']));
    await fair.release(queue, ['j1']); // j2 "crashed" before release
    expect(await queue.getJobState('j1')).toMatch(/wait|prioritized/);
    expect(await queue.getJobState('j2')).toBe('delayed');
    expect(await fair.sweep(queue, -1)).toBe(1);
    expect(await queue.getJobState('j2')).toMatch(/wait|prioritized/);
    await queue.close();
  });
});
