import { JobStore } from '@switchyard/jobs';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchStore, type FileBatchMeta } from './batch-store.ts';
import { batchLinesOf } from './test-support.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
const RETENTION = 3600;
let redis: Redis;
let jobs: JobStore;
let batches: BatchStore;

beforeAll(() => {
  redis = new Redis(url);
  const settings = { retentionSeconds: RETENTION, maxAttempts: 3, backoffMs: 50 };
  jobs = new JobStore({
    redis,
    prefix,
    ...settings,
    idempotencyTtlSeconds: RETENTION,
    defaultTimeoutMs: 60_000,
  });
  batches = new BatchStore({ redis, prefix, retentionSeconds: RETENTION, jobs });
});
afterAll(async () => {
  await jobs?.close();
  redis?.disconnect();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const values = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `c${i}`,
    type: 'completion',
    request: { model: 'mock', messages: [{ role: 'user', content: `line ${i}` }] },
  }));

describe('BatchStore: OpenAI batches', () => {
  it('a file batch reads validating until finalized, then in_progress with its window as every deadline', async () => {
    const t = tenant();
    const now = Date.now();
    const meta: FileBatchMeta = {
      inputFileId: 'file-0123456789abcdef01234567',
      completionWindow: '1h',
      metadata: { run: '7' },
      createdAt: now,
      expiresAt: now + 3_600_000,
    };
    const writer = await batches.open(t, { deadlineAt: meta.expiresAt });
    await batches.markFromFile(t, writer.batchId, meta);
    expect(await batches.get(t, writer.batchId)).toMatchObject({
      status: 'validating',
      metadata: { run: '7' },
    });
    expect((await batches.list(t, { limit: 10 })).data.map((b) => b.id)).toEqual([writer.batchId]);
    const { lines, summary } = batchLinesOf(values(3));
    for (const line of lines) writer.add(line);
    await batches.storeRejections(t, writer.batchId, meta, [
      { line: 4, custom_id: null, code: 'invalid_json', errors: [{ path: '(root)', message: 'bad' }] },
    ]);
    const { batch } = await writer.finish(summary);
    expect(batch).toMatchObject({
      status: 'in_progress',
      input_file_id: meta.inputFileId,
      completion_window: '1h',
      expires_at: Math.floor(meta.expiresAt / 1000),
    });
    const page = await batches.resultsPage(t, batch.id, 0, 10);
    for (const line of page) {
      const job = await jobs.find(t, line.job_id);
      expect(Date.parse(job?.deadline_at ?? '')).toBeLessThanOrEqual(meta.expiresAt);
    }
    expect(await batches.rejectedPage(t, batch.id, 0, 10)).toMatchObject([{ line: 4, code: 'invalid_json' }]);
  });

  it('cancel marks the batch cancelling and cancels each unfinished job; a completed batch is batch_finished', async () => {
    const t = tenant();
    const { lines, summary } = batchLinesOf(values(4));
    const writer = await batches.open(t);
    for (const line of lines) writer.add(line);
    const { batch } = await writer.finish(summary);
    const ids = (await batches.resultsPage(t, batch.id, 0, 10)).map((l) => l.job_id);
    await batches.recordFinished(t, batch.id, ids[0] ?? '', 'succeeded', 5);
    const cancelling = await batches.cancel(t, batch.id);
    expect(cancelling).toMatchObject({ status: 'cancelling', cancelling_at: expect.any(Number) as number });
    const cancelKeys = await Promise.all(ids.map((id) => redis.exists(`${prefix}:cancel:${id}`)));
    expect(cancelKeys).toEqual([0, 1, 1, 1]);
    for (const id of ids.slice(1)) await batches.recordFinished(t, batch.id, id, 'canceled', 0);
    expect(await batches.get(t, batch.id)).toMatchObject({
      status: 'cancelled',
      output_file_id: `file-${batch.id}-output`,
      error_file_id: `file-${batch.id}-errors`,
    });
    expect((await batches.cancel(t, batch.id))?.status).toBe('cancelled');
    expect(await batches.cancel(tenant(), batch.id)).toBeUndefined();

    const { lines: one, summary: oneSummary } = batchLinesOf(values(1));
    const w2 = await batches.open(t);
    for (const line of one) w2.add(line);
    const { batch: small } = await w2.finish(oneSummary);
    const [only] = await batches.resultsPage(t, small.id, 0, 1);
    await batches.recordFinished(t, small.id, only?.job_id ?? '', 'succeeded', 1);
    await expect(batches.cancel(t, small.id)).rejects.toMatchObject({ code: 'batch_finished' });
  });
});
