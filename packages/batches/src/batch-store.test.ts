import type { JobSpec } from '@switchyard/contracts';
import { JobStore, type JobData, type JobStoreOptions } from '@switchyard/jobs';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotentBatchId } from './batch-ids.ts';
import { BatchStore } from './batch-store.ts';
import { BATCH_CHUNK_SIZE } from './batch-writer.ts';
import { batchLinesOf } from './test-support.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
const RETENTION = 3600;
let redis: Redis;
let jobOptions: JobStoreOptions;
let jobs: JobStore;
let batches: BatchStore;

beforeAll(() => {
  redis = new Redis(url);
  const settings = { retentionSeconds: RETENTION, maxAttempts: 3, backoffMs: 50 };
  jobOptions = {
    redis,
    prefix,
    ...settings,
    idempotencyTtlSeconds: RETENTION,
    defaultTimeoutMs: 60_000,
  };
  jobs = new JobStore(jobOptions);
  batches = new BatchStore({ redis, prefix, retentionSeconds: RETENTION, jobs });
});
afterAll(async () => {
  await jobs?.close();
  redis?.disconnect();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const spec = (content: string): Record<string, unknown> => ({
  type: 'completion',
  request: { model: 'mock', messages: [{ role: 'user', content }] },
});
const lineValues = (n: number, tag = ''): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => ({ custom_id: `c${i}`, ...spec(`line ${i}${tag}`) }));

/** Runs lines through a writer the way the API route does, without finishing. */
async function receive(tenantId: string, values: unknown[], key?: string) {
  const { lines, summary } = batchLinesOf(values);
  const writer = await batches.open(tenantId, { idempotencyKey: key });
  for (const line of lines) {
    if (writer.add(line)) await writer.flush();
  }
  await writer.flush();
  return { writer, summary };
}

async function submit(tenantId: string, values: unknown[], key?: string) {
  const { writer, summary } = await receive(tenantId, values, key);
  return writer.finish(summary);
}

async function batchJobCount(): Promise<number> {
  return (await jobs.queues.batch.getJobCounts('wait', 'prioritized', 'active', 'delayed')).prioritized ?? 0;
}

async function listOf(tenantId: string, batchId: string): Promise<string[]> {
  return redis.lrange(`${prefix}:batch:{${tenantId}}:${batchId}:jobs`, 0, -1);
}

describe('BatchStore: submitting', () => {
  it('enqueues every accepted line as a batch job, in chunks, and lists them in line order', async () => {
    const t = tenant();
    const before = await batchJobCount();
    const values = lineValues(BATCH_CHUNK_SIZE + 7);
    values.splice(3, 0, { custom_id: 'bad', type: 'completion' });
    const { batch, replayed } = await submit(t, values);
    expect(replayed).toBe(false);
    expect(batch).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      counts: { total: 508, accepted: 507, rejected: 1, queued_or_running: 507, succeeded: 0 },
      cost: { usd: 0, nano_usd: 0 },
    });
    expect(await batchJobCount()).toBe(before + 507);
    const list = await listOf(t, batch.id);
    expect(list).toHaveLength(507);
    expect(list.slice(0, 4).map((e) => e.split(' ')[1])).toEqual(['c0', 'c1', 'c2', 'c3']);
    const [firstId] = (list[0] ?? '').split(' ');
    const job = await Job.fromId<JobData>(jobs.queues.batch, firstId ?? '');
    expect(job?.data).toMatchObject({ v: 1, tenantId: t, batch: { id: batch.id, customId: 'c0' } });
    const jobSpec = job?.data.spec as JobSpec;
    expect(jobSpec.lane).toBe('batch');
    // Lines without timeout_ms get the batch deadline (24 h), not the interactive default.
    expect((job?.data.deadline ?? 0) - (job?.data.submittedAt ?? 0)).toBe(24 * 3600 * 1000);
    expect(await redis.ttl(`${prefix}:batch:{${t}}:${batch.id}`)).toBeGreaterThan(RETENTION);
  });

  it('the same Idempotency-Key and lines answer the same batch and enqueue nothing new', async () => {
    const t = tenant();
    const first = await submit(t, lineValues(20), 'key-1');
    expect(first.batch.id).toBe(idempotentBatchId(t, 'key-1'));
    const before = await batchJobCount();
    const again = await submit(t, lineValues(20), 'key-1');
    expect(again.replayed).toBe(true);
    expect(again.batch).toEqual(first.batch);
    expect(await batchJobCount()).toBe(before);
    await expect(submit(t, lineValues(20, ' changed'), 'key-1')).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    expect(await listOf(t, first.batch.id)).toHaveLength(20);
  });

  it('a replay completes a batch whose first request died half-way, without duplicating jobs', async () => {
    const t = tenant();
    const values = lineValues(BATCH_CHUNK_SIZE + 10);
    const before = await batchJobCount();
    await receive(t, values.slice(0, BATCH_CHUNK_SIZE), 'key-2'); // enqueued, never finished
    expect(await batches.get(t, idempotentBatchId(t, 'key-2'))).toBeUndefined();
    const { batch, replayed } = await submit(t, values, 'key-2');
    expect(replayed).toBe(false);
    expect(batch.counts.accepted).toBe(BATCH_CHUNK_SIZE + 10);
    expect(await batchJobCount()).toBe(before + BATCH_CHUNK_SIZE + 10);
    expect(await listOf(t, batch.id)).toHaveLength(BATCH_CHUNK_SIZE + 10);
  });

  it('another tenant cannot see the batch', async () => {
    const { batch } = await submit(tenant(), lineValues(1));
    expect(await batches.get(tenant(), batch.id)).toBeUndefined();
    expect(await batches.get(tenant(), 'not-a-batch-id')).toBeUndefined();
  });
});

describe('BatchStore: batch-lane fair share', () => {
  it('batch-lane lines are stored delayed and held in one call per chunk; other lanes run at once', async () => {
    const holds: { tenantId: string; jobs: { jobId: string; priority: number }[] }[] = [];
    const fair = {
      hold: async (tenantId: string, held: { jobId: string; priority: number }[]) =>
        holds.push({ tenantId, jobs: held }),
    };
    const fairJobs = new JobStore({ ...jobOptions, fair });
    const fairBatches = new BatchStore({ redis, prefix, retentionSeconds: RETENTION, jobs: fairJobs });
    const t = tenant();
    const values = [
      ...lineValues(2),
      { custom_id: 'now', lane: 'interactive', priority: 2, ...spec('fast') },
    ];
    const { lines, summary } = batchLinesOf(values);
    expect(summary.rejected).toBe(0);
    const writer = await fairBatches.open(t);
    for (const line of lines) writer.add(line);
    const { batch } = await writer.finish(summary);
    await fairJobs.close();
    const ids = (await listOf(t, batch.id)).map((e) => e.split(' ')[0] ?? '');
    expect(holds).toEqual([
      {
        tenantId: t,
        jobs: [
          expect.objectContaining({ jobId: ids[0], priority: 5 }),
          expect.objectContaining({ jobId: ids[1] }),
        ],
      },
    ]);
    expect(await jobs.queues.batch.getJobState(ids[0] ?? '')).toBe('delayed');
    expect(await jobs.queues.interactive.getJobState(ids[2] ?? '')).toBe('prioritized');
  });
});

describe('BatchStore: finished jobs (batch-finished-3.lua)', () => {
  it('counts each job once, adds its cost, and completes the batch when every job finished', async () => {
    const t = tenant();
    const { batch } = await submit(t, lineValues(3));
    const ids = (await listOf(t, batch.id)).map((e) => e.split(' ')[0] ?? '');
    expect(await batches.recordFinished(t, batch.id, ids[0] ?? '', 'succeeded', 1_500)).toBe(true);
    expect(await batches.recordFinished(t, batch.id, ids[0] ?? '', 'succeeded', 1_500)).toBe(false);
    expect(await batches.recordFinished(t, batch.id, ids[1] ?? '', 'failed', 250)).toBe(true);
    expect(await batches.get(t, batch.id)).toMatchObject({
      status: 'in_progress',
      counts: { queued_or_running: 1, succeeded: 1, failed: 1, canceled: 0 },
      cost: { nano_usd: 1_750 },
    });
    await batches.recordFinished(t, batch.id, ids[2] ?? '', 'canceled', 0);
    expect(await batches.get(t, batch.id)).toMatchObject({
      status: 'completed',
      counts: { total: 3, accepted: 3, queued_or_running: 0, succeeded: 1, failed: 1, canceled: 1 },
      cost: { usd: 1.75e-6, nano_usd: 1_750 },
    });
  });

  it('concurrent reports of the same job count it once; large costs stay exact', async () => {
    const t = tenant();
    const { batch } = await submit(t, lineValues(1));
    const [id] = (await listOf(t, batch.id)).map((e) => e.split(' ')[0] ?? '');
    const big = 2 ** 53 - 1;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => batches.recordFinished(t, batch.id, id ?? '', 'succeeded', big)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await redis.hget(`${prefix}:batch:{${t}}:${batch.id}`, 'cost_nanos')).toBe(String(big));
    await expect(batches.recordFinished(t, batch.id, id ?? '', 'failed', -1)).rejects.toThrow(RangeError);
  });

  it('a report for a job whose batch was never finalized expires with the retention period', async () => {
    const t = tenant();
    await batches.recordFinished(t, 'bt_kdeadbeefdeadbeefdeadbeef', 'jb_x', 'failed', 5);
    const ttl = await redis.ttl(`${prefix}:batch:{${t}}:bt_kdeadbeefdeadbeefdeadbeef`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(RETENTION);
  });
});

describe('BatchStore: results', () => {
  it('reads job records page by page in line order, with custom ids', async () => {
    const t = tenant();
    const { batch } = await submit(t, lineValues(25));
    const page1 = await batches.resultsPage(t, batch.id, 0, 10);
    const page3 = await batches.resultsPage(t, batch.id, 20, 10);
    expect(page1.map((l) => l.custom_id)).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`));
    expect(page3.map((l) => l.custom_id)).toEqual(['c20', 'c21', 'c22', 'c23', 'c24']);
    expect(page1[0]).toMatchObject({ status: 'queued', result: null, error: null, cost: { nano_usd: 0 } });
    expect(await batches.resultsPage(t, batch.id, 25, 10)).toEqual([]);
  });

  it('a job past its retention reads as expired', async () => {
    const t = tenant();
    const { batch } = await submit(t, lineValues(2));
    const [, second] = await listOf(t, batch.id);
    await jobs.queues.batch.remove((second ?? '').split(' ')[0] ?? '');
    const page = await batches.resultsPage(t, batch.id, 0, 10);
    expect(page.map((l) => l.status)).toEqual(['queued', 'expired']);
    expect(page[1]).toMatchObject({ custom_id: 'c1', error: { code: 'not_found' } });
  });
});
