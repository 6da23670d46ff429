import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLines, BatchIntake } from './batch-lines.ts';
import { BatchStore } from './batch-store.ts';
import type { JobData } from './job-data.ts';
import { JobStore } from './job-store.ts';
import { Keys } from './keys.ts';
import { WebhookOutbox, webhookEventId } from './webhook-outbox.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = new Keys(`t${randomBytes(4).toString('hex')}`);
const HOOK = 'https://receiver.example/hooks';
let redis: Redis;
let jobs: JobStore;
let outbox: WebhookOutbox;
let batches: BatchStore;

beforeAll(() => {
  redis = new Redis(url);
  const common = { redis, keys, retentionSeconds: 3600, maxAttempts: 3, backoffMs: 50 };
  jobs = new JobStore({ ...common, idempotencyTtlSeconds: 3600, defaultTimeoutMs: 60_000 });
  outbox = new WebhookOutbox({ redis, keys, retentionSeconds: 3600, maxAttempts: 8, backoffMs: 1_000 });
  batches = new BatchStore({ ...common, jobs, webhooks: outbox });
});
afterAll(async () => {
  await outbox?.close();
  await jobs?.close();
  redis?.disconnect();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const request = { model: 'mock', messages: [{ role: 'user' as const, content: 'hi' }] };
const jobData = (tenantId: string, webhook?: { url: string }): JobData => ({
  v: 1,
  tenantId,
  spec: {
    type: 'completion',
    lane: 'batch',
    priority: 5,
    request,
    ...(webhook ? { webhook } : {}),
  },
  fingerprint: 'fp',
  submittedAt: 1_700_000_000_000,
  deadline: 1_700_000_600_000,
});
const deliveries = async () =>
  (await outbox.queue.getJobs(['wait', 'prioritized', 'delayed'])).map((j) => j.data);

async function submit(
  tenantId: string,
  n: number,
  opts: { webhookUrl?: string; idempotencyKey?: string } = {},
) {
  const intake = new BatchIntake({ knownModel: () => true, maxLines: 100, maxRejectionsListed: 10 });
  const writer = await batches.open(tenantId, opts);
  const values = Array.from({ length: n }, (_, i) => ({ custom_id: `c${i}`, type: 'completion', request }));
  for (const raw of arrayLines(values)) {
    const line = intake.take(raw);
    if (line) writer.add(line);
  }
  return writer.finish(intake.summary());
}

const jobIds = async (tenantId: string, batchId: string) =>
  (await redis.lrange(`${keys.prefix}:batch:{${tenantId}}:${batchId}:jobs`, 0, -1)).map(
    (e) => e.split(' ')[0] ?? '',
  );

describe('WebhookOutbox', () => {
  it('a job’s final state enqueues one delivery, however often it is reported; no webhook, none', async () => {
    const t = tenant();
    const job = { id: `jb_${randomBytes(8).toString('hex')}`, data: jobData(t, { url: HOOK }) };
    const ids = await Promise.all([
      outbox.jobFinished(job),
      outbox.jobFinished(job),
      outbox.jobFinished(job),
    ]);
    expect(new Set(ids)).toEqual(new Set([webhookEventId('job.finished', job.id, job.data.submittedAt)]));
    expect(await outbox.jobFinished({ id: 'jb_other', data: jobData(t) })).toBeUndefined();
    const added = (await deliveries()).filter((d) => d.tenantId === t);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ type: 'job.finished', tenantId: t, subjectId: job.id, url: HOOK });
    const stored = await outbox.queue.getJob(ids[0] ?? '');
    expect(stored?.opts).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 1_000 } });
  });

  it('event ids differ by type, subject and the subject’s creation time', () => {
    const a = webhookEventId('job.finished', 'jb_1', 1);
    expect(a).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(webhookEventId('job.finished', 'jb_1', 1)).toBe(a);
    expect(webhookEventId('job.finished', 'jb_1', 2)).not.toBe(a);
    expect(webhookEventId('batch.completed', 'jb_1', 1)).not.toBe(a);
  });
});

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
});
