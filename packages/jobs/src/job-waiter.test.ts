import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJobId } from './job-ids.ts';
import { JobWaiter } from './job-waiter.ts';
import { jobKeys } from './keys.ts';

let handle: RedisHandle;
let admin: Redis;
let connection: Redis;
let queue: Queue;
let worker: Worker;

/** Connections blocked reading an event stream: one per lane whose events are being read. */
async function streamReaders(): Promise<number> {
  const clients = (await admin.client('LIST')) as string;
  return clients.split('\n').filter((l) => / cmd=xread /.test(l) && / flags=b /.test(l)).length;
}

const waitUntil = async (check: () => Promise<boolean>, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

beforeAll(async () => {
  handle = await startRedis({ dedicated: true });
  admin = new Redis(handle.url);
  connection = new Redis(handle.url, { maxRetriesPerRequest: null });
  const name = jobKeys(handle.prefix).queueName('batch');
  queue = new Queue(name, { connection: admin, prefix: handle.prefix });
  // Finishes each job 300 ms after it starts, so a waiter is registered before it completes.
  worker = new Worker(name, () => new Promise((r) => setTimeout(r, 300)), {
    connection: new Redis(handle.url, { maxRetriesPerRequest: null }),
    prefix: handle.prefix,
  });
});
afterAll(async () => {
  await worker.close();
  await queue.close();
  connection.disconnect();
  admin.disconnect();
  await handle.stop();
});

describe('JobWaiter: the batch lane is read only while someone waits on a batch job', () => {
  it('reads the interactive lane from the start, the batch lane on demand, and stops reading it when idle', async () => {
    const waiter = new JobWaiter({ connection, prefix: handle.prefix, idleCloseMs: 200 });
    await waiter.ready();
    await waitUntil(async () => (await streamReaders()) === 1);

    const id = newJobId('batch');
    await queue.add('job', {}, { jobId: id });
    const t0 = Date.now();
    let finished = false;
    const woken = waiter.wait(id, 5_000, async () => finished);
    await waitUntil(async () => (await streamReaders()) === 2);
    expect((await woken).finished).toBe(true);
    // Woken by the completion event, not by the 5 s timeout.
    expect(Date.now() - t0).toBeLessThan(3_000);
    finished = true;

    // Nobody waits on a batch job any more: the reader closes after idleCloseMs.
    await waitUntil(async () => (await streamReaders()) === 1);

    // A watch starts it again, and says when it is subscribed.
    const events: string[] = [];
    const id2 = newJobId('batch');
    const unwatch = waiter.watch(id2, (e) => events.push(e));
    await waitUntil(async () => events.includes('subscribed'));
    await queue.add('job', {}, { jobId: id2 });
    await waitUntil(async () => events.includes('completed'));
    expect(events).toContain('active');
    unwatch();
    await waitUntil(async () => (await streamReaders()) === 1);
    await waiter.close();
  });
});
