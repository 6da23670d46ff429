import type { JobSpec } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStore } from './job-store.ts';
import { jobKeys } from './keys.ts';

let handle: RedisHandle;
let redis: Redis;
let store: JobStore;

/** The options every store here shares: this file's Redis, its prefix, short windows. */
const storeOptions = () => ({
  redis,
  prefix: handle.prefix,
  idempotencyTtlSeconds: 3_600,
  retentionSeconds: 3_600,
  maxAttempts: 3,
  backoffMs: 100,
  defaultTimeoutMs: 60_000,
});

beforeAll(async () => {
  handle = await startRedis({ dedicated: true });
  redis = new Redis(handle.url);
  store = new JobStore(storeOptions());
});
afterAll(async () => {
  await store.close();
  redis.disconnect();
  await handle.stop();
});

const completion = (lane: 'interactive' | 'batch'): JobSpec => ({
  type: 'completion',
  lane,
  priority: 3,
  request: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  metadata: { doc: '7' },
  webhook: { url: 'https://hooks.example.com/sy' },
});

describe('JobStore.submit', () => {
  it('answers a new job with exactly the record a read of the stored job gives, without reading it back', async () => {
    for (const lane of ['interactive', 'batch'] as const) {
      const { job, replayed } = await store.submit({ tenantId: 't1', spec: completion(lane) });
      expect(replayed).toBe(false);
      expect(job).toEqual(await store.find('t1', job.id));
    }
  });

  it('reads a keyed job back, so a replay answers the job first stored', async () => {
    const first = await store.submit({
      tenantId: 't1',
      spec: completion('interactive'),
      idempotencyKey: 'k1',
    });
    const again = await store.submit({
      tenantId: 't1',
      spec: completion('interactive'),
      idempotencyKey: 'k1',
    });
    expect(again.replayed).toBe(true);
    expect(again.job).toEqual(first.job);
  });

  it('isFinished: a queued job is not, even with a cancel requested (until a worker stops it); a gone one is', async () => {
    const { job } = await store.submit({ tenantId: 't1', spec: completion('interactive') });
    expect(await store.isFinished(job.id)).toBe(false);
    await store.cancel('t1', job.id);
    expect(await store.isFinished(job.id)).toBe(false);
    expect(await store.isFinished('ji_0000000000000000000000000000')).toBe(true);
  });
});

describe('JobStore.find while a worker finishes the job', () => {
  it('never answers a finished job without its result, when the job finishes between its two reads', async () => {
    const worker = new Worker(jobKeys(handle.prefix).queueName('interactive'), null, {
      connection: new Redis(handle.url, { maxRetriesPerRequest: null }),
      prefix: handle.prefix,
    });
    const queue = store.queues.interactive;
    const readState = queue.getJobState.bind(queue);
    try {
      await queue.drain(); // jobs earlier tests left queued
      const { job } = await store.submit({ tenantId: 't1', spec: completion('interactive') });
      const active = await worker.getNextJob('tok');
      expect(active?.id).toBe(job.id);
      // The job hash is read first; the worker finishes the job before the state is read.
      queue.getJobState = async (id: string) => {
        await new Promise((r) => setTimeout(r, 50));
        await active.moveToCompleted({ result: { type: 'completion' }, costNanos: 1 }, 'tok', false);
        return readState(id);
      };
      const record = await store.find('t1', job.id);
      expect(record?.status).toBe('succeeded');
      expect(record?.result).toEqual({ type: 'completion' });
      expect(record?.finished_at).not.toBeNull();
    } finally {
      queue.getJobState = readState;
      await worker.close();
    }
  });
});

describe('JobStore.find while a worker records the last attempt and finishes the job', () => {
  it('answers a finished job with the cost of every attempt, when the attempt ended after its totals were read', async () => {
    // The ledger's totals of one job, in a hash of the same Redis (what @switchyard/ledger keeps).
    const ledgerKey = `${handle.prefix}:test-ledger`;
    const costs = {
      jobTotals: async (_tenant: string, jobId: string) => {
        const [attempts, costNanos] = await redis.hmget(`${ledgerKey}:${jobId}`, 'attempts', 'cost');
        return { attempts: Number(attempts ?? 0), costNanos: Number(costNanos ?? 0) };
      },
    };
    const costed = new JobStore({ ...storeOptions(), costs });
    const worker = new Worker(jobKeys(handle.prefix).queueName('interactive'), null, {
      connection: new Redis(handle.url, { maxRetriesPerRequest: null }),
      prefix: handle.prefix,
    });
    const queue = costed.queues.interactive;
    const readState = queue.getJobState.bind(queue);
    try {
      await queue.drain();
      const { job } = await costed.submit({ tenantId: 't1', spec: completion('interactive') });
      const active = await worker.getNextJob('tok');
      expect(active?.id).toBe(job.id);
      await redis.hset(jobKeys(handle.prefix).attempts(job.id), 'n', 1); // attempt 1 has started
      // The totals are read before the state; the attempt is recorded and the job finished between.
      queue.getJobState = async (id: string) => {
        await new Promise((r) => setTimeout(r, 50));
        await redis.hset(`${ledgerKey}:${job.id}`, 'attempts', 1, 'cost', 2_500_000);
        await active.moveToCompleted({ result: { type: 'completion' }, costNanos: 0 }, 'tok', false);
        return readState(id);
      };
      const record = await costed.find('t1', job.id);
      expect(record?.status).toBe('succeeded');
      expect(record?.cost).toEqual({ usd: 0.0025, nano_usd: 2_500_000 });
    } finally {
      queue.getJobState = readState;
      await worker.close();
      await costed.close();
    }
  });
});

describe('JobStore on a sharded batch lane', () => {
  it('spreads new batch jobs over its shards; a store configured with fewer shards still reads and cancels them by id', async () => {
    const sharded = new JobStore({ ...storeOptions(), batchShards: 3 });
    const ids = [];
    for (let i = 0; i < 30; i++)
      ids.push((await sharded.submit({ tenantId: 't9', spec: completion('batch') })).job.id);
    const prefixes = new Set(ids.map((id) => id.slice(0, id.indexOf('_') + 1)));
    expect(prefixes).toEqual(new Set(['jb_', 'jb1_', 'jb2_']));
    const keyed = await sharded.submit({ tenantId: 't9', spec: completion('batch'), idempotencyKey: 'k-7' });
    expect(keyed.job.id).toBe(sharded.idempotentJobId('batch', 't9', 'k-7'));

    const far = ids.find((id) => id.startsWith('jb2_')) ?? '';
    expect(await store.find('t9', far)).toMatchObject({ id: far, status: 'queued' });
    expect(await store.cancel('t9', far)).toMatchObject({ id: far });
    expect(await redis.exists(`${handle.prefix}:cancel:${far}`)).toBe(1);
    expect(await store.isFinished(far)).toBe(false);
    await sharded.close();
  });
});
