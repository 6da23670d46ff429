import type { JobData } from '@switchyard/jobs';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookOutbox, webhookEventId } from './webhook-outbox.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
const HOOK = 'https://receiver.example/hooks';
let redis: Redis;
let outbox: WebhookOutbox;

beforeAll(() => {
  redis = new Redis(url);
  outbox = new WebhookOutbox({ redis, prefix, retentionSeconds: 3600, maxAttempts: 8, backoffMs: 1_000 });
});
afterAll(async () => {
  await outbox?.close();
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
  submittedAt: 1_700_000_000_000,
  deadline: 1_700_000_600_000,
});
const deliveries = async () =>
  (await outbox.queue.getJobs(['wait', 'prioritized', 'delayed'])).map((j) => j.data);

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
