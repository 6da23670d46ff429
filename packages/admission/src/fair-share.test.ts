import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('a refill tops the lane up to the buffer, round-robin across tenants, promoting in one step', async () => {
    const own = `${handle.prefix}r`;
    const fair = new FairShare({ redis, prefix: own });
    const queue = new Queue('{batch}', { connection: redis, prefix: own });
    const add = (id: string, priority: number) => queue.add('x', {}, { jobId: id, delay: 60_000, priority });
    for (let i = 0; i < 5; i++) await add(`a${i}`, 5);
    for (let i = 0; i < 2; i++) await add(`b${i}`, 5);
    await add('gone', 5);
    await fair.hold('a', held('a', 5));
    await fair.hold('b', held('b', 2));
    await fair.hold('c', [{ jobId: 'gone', priority: 5, at: 1 }]);
    await queue.remove('gone'); // canceled while held: dropped, as a failed promote was
    await queue.add('y', {}, { jobId: 'ready', priority: 5 }); // one already ready counts

    expect(await fair.refill(queue, 5)).toEqual({ moved: 3, held: true });
    const ready = async () => (await queue.getJobs(['prioritized'])).map((j) => j.id).sort();
    expect(await ready()).toEqual(['a0', 'a1', 'b0', 'ready']);
    expect(await redis.hlen(admissionKeys(own).fair.inflight)).toBe(0); // nothing left to sweep
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 4 });
    // As full as the buffer: nothing moves (the dropped id left room for one more).
    expect(await fair.refill(queue, 4)).toEqual({ moved: 0, held: true });
    expect(await fair.refill(queue, 5)).toEqual({ moved: 1, held: true });

    await queue.close();
  });

  it('refilled jobs run in priority order, then in the order they were promoted', async () => {
    const own = `${handle.prefix}o`;
    const fair = new FairShare({ redis, prefix: own });
    const queue = new Queue('{batch}', { connection: redis, prefix: own });
    for (const [id, priority] of [
      ['late', 5],
      ['urgent', 1],
      ['later', 5],
    ] as const)
      await queue.add('x', {}, { jobId: id, delay: 60_000, priority });
    await fair.hold('p', [
      { jobId: 'late', priority: 5, at: 1 },
      { jobId: 'urgent', priority: 1, at: 2 },
      { jobId: 'later', priority: 5, at: 3 },
    ]);
    // A lone tenant gives what the lane lacks in one pop; its backlog is then empty.
    expect(await fair.refill(queue, 100)).toEqual({ moved: 3, held: false });
    expect(await redis.llen(admissionKeys(own).fair.ring)).toBe(0);
    const connection = new Redis(handle.url, { maxRetriesPerRequest: null });
    const worker = new Worker('{batch}', async () => undefined, { connection, prefix: own, autorun: false });
    const order: string[] = [];
    worker.on('completed', (job) => order.push(job.id ?? ''));
    void worker.run();
    await vi.waitFor(() => expect(order).toEqual(['urgent', 'late', 'later']));
    await worker.close();
    connection.disconnect();
    await queue.close();
  });

  it("on a sharded lane a job is held on its own shard, each shard's refill promotes only its own queue's jobs, and the held count sums shards", async () => {
    const own = `${handle.prefix}h`;
    const fair = new FairShare({ redis, prefix: own, shards: 3 });
    const queues = ['{batch}', '{batch-1}', '{batch-2-163}'].map(
      (name) => new Queue(name, { connection: redis, prefix: own }),
    );
    const jobs = [
      { jobId: 'a-0', priority: 5, at: 1, shard: 0 },
      { jobId: 'a-1', priority: 5, at: 2, shard: 1 },
      { jobId: 'a-2', priority: 5, at: 3, shard: 2 },
      { jobId: 'b-2', priority: 5, at: 4, shard: 2 },
    ];
    for (const j of jobs) await queues[j.shard]?.add('x', {}, { jobId: j.jobId, delay: 60_000, priority: 5 });
    await fair.hold('a', jobs.slice(0, 3));
    await fair.hold('b', jobs.slice(3));
    const own2 = admissionKeys(own).fairShard(2);
    expect(await redis.zrange(own2.backlogPrefix + 'a', '0', '-1')).toEqual(['a-2']);
    expect(await redis.lrange(own2.ring, 0, -1)).toEqual(['a', 'b']);
    expect(await fair.heldCount()).toBe(4);
    expect(await fair.refill(queues[2] as Queue, 10, 2)).toEqual({ moved: 2, held: false });
    expect(await queues[2]?.getJobCounts('prioritized', 'delayed')).toEqual({ prioritized: 2, delayed: 0 });
    // Shards 0 and 1 are untouched until their own movers refill them.
    expect(await fair.heldCount()).toBe(2);
    expect(await queues[1]?.getJobState('a-1')).toBe('delayed');
    expect(await fair.refill(queues[1] as Queue, 10, 1)).toEqual({ moved: 1, held: false });
    expect(await queues[1]?.getJobState('a-1')).toBe('prioritized');
    expect(await fair.heldCount()).toBe(1);
    await Promise.all(queues.map((q) => q.close()));
  });
});
