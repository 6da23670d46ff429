import { JobStore } from '@switchyard/jobs';
import { WebhookOutbox, webhookEventId } from '@switchyard/webhooks';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchStore } from './batch-store.ts';
import { batchLinesOf } from './test-support.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
const HOOK = 'https://receiver.example/hooks';
let redis: Redis;
let jobs: JobStore;
let outbox: WebhookOutbox;
let batches: BatchStore;

beforeAll(() => {
  redis = new Redis(url);
  const settings = { retentionSeconds: 3600, maxAttempts: 3, backoffMs: 50 };
  jobs = new JobStore({
    redis,
    prefix,
    ...settings,
    idempotencyTtlSeconds: 3600,
    defaultTimeoutMs: 60_000,
  });
  outbox = new WebhookOutbox({
    redis,
    prefix,
    retentionSeconds: 3600,
    maxAttempts: 8,
    backoffMs: 1_000,
  });
  batches = new BatchStore({
    redis,
    prefix,
    retentionSeconds: 3600,
    jobs,
    webhooks: outbox,
  });
});
afterAll(async () => {
  await outbox?.close();
  await jobs?.close();
  redis?.disconnect();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const request = { model: 'mock', messages: [{ role: 'user' as const, content: 'hi' }] };

async function submit(
  tenantId: string,
  n: number,
  opts: { webhookUrl?: string; idempotencyKey?: string } = {},
) {
  const writer = await batches.open(tenantId, opts);
  const values = Array.from({ length: n }, (_, i) => ({ custom_id: `c${i}`, type: 'completion', request }));
  const { lines, summary } = batchLinesOf(values);
  for (const line of lines) writer.add(line);
  return writer.finish(summary);
}

const jobIds = async (tenantId: string, batchId: string) =>
  (await redis.lrange(`${prefix}:batch:{${tenantId}}:${batchId}:jobs`, 0, -1)).map(
    (e) => e.split(' ')[0] ?? '',
  );

describe('BatchStore: batch.completed', () => {
  it('counting the last job of a batch with a webhook enqueues its event once', async () => {
    const t = tenant();
    const { batch } = await submit(t, 3, { webhookUrl: HOOK });
    expect(batch.webhook).toEqual({ url: HOOK });
    const ids = await jobIds(t, batch.id);
    const eventId = webhookEventId('batch.completed', batch.id, Date.parse(batch.created_at));
    await batches.recordFinished(t, batch.id, ids[0] ?? '', 'succeeded', 1);
    await batches.recordFinished(t, batch.id, ids[1] ?? '', 'failed', 1);
    expect(await outbox.queue.getJob(eventId)).toBeUndefined();
    await Promise.all([0, 1, 2].map(() => batches.recordFinished(t, batch.id, ids[2] ?? '', 'canceled', 0)));
    const job = await outbox.queue.getJob(eventId);
    expect(job?.data).toMatchObject({ type: 'batch.completed', tenantId: t, subjectId: batch.id, url: HOOK });
  });

  it('a batch whose jobs all finished before it was finalized is announced when it is', async () => {
    const t = tenant();
    const { batch: empty } = await submit(t, 0, { webhookUrl: HOOK });
    expect(empty.status).toBe('completed');
    const eventId = webhookEventId('batch.completed', empty.id, Date.parse(empty.created_at));
    expect(await outbox.queue.getJob(eventId)).toBeDefined();
    const { batch: quiet } = await submit(t, 0);
    const quietId = webhookEventId('batch.completed', quiet.id, Date.parse(quiet.created_at));
    expect(await outbox.queue.getJob(quietId)).toBeUndefined();
  });

  it('an Idempotency-Key replay with another webhook_url is a reuse of the key', async () => {
    const t = tenant();
    await submit(t, 2, { webhookUrl: HOOK, idempotencyKey: 'k' });
    expect((await submit(t, 2, { webhookUrl: HOOK, idempotencyKey: 'k' })).replayed).toBe(true);
    await expect(submit(t, 2, { webhookUrl: `${HOOK}/2`, idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    await expect(submit(t, 2, { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
  });

  it('a cancelled batch is announced once its last job has stopped', async () => {
    const t = tenant();
    const { batch } = await submit(t, 2, { webhookUrl: HOOK });
    const ids = await jobIds(t, batch.id);
    const eventId = webhookEventId('batch.completed', batch.id, Date.parse(batch.created_at));
    await batches.cancel(t, batch.id);
    await batches.recordFinished(t, batch.id, ids[0] ?? '', 'canceled', 0);
    expect(await outbox.queue.getJob(eventId)).toBeUndefined();
    await batches.recordFinished(t, batch.id, ids[1] ?? '', 'canceled', 0);
    expect((await batches.get(t, batch.id))?.status).toBe('cancelled');
    expect((await outbox.queue.getJob(eventId))?.data).toMatchObject({
      type: 'batch.completed',
      subjectId: batch.id,
    });
  });
});
