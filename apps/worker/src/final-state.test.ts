import { Ledger } from '@switchyard/ledger';
import { TenantLoad } from '@switchyard/admission';
import { BatchStore } from '@switchyard/batches';
import { JobSpecSchema } from '@switchyard/contracts';
import { FailureLog, fingerprint, JobStore, type JobData } from '@switchyard/jobs';
import { webhookEventId, WebhookOutbox } from '@switchyard/webhooks';
import { createLogger } from '@switchyard/telemetry';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FinalState, type FinishedJob } from './final-state.ts';

const HOOK = 'https://receiver.example/hooks';
const RETENTION = 3600;

let handle: RedisHandle;
let redis: Redis;
let jobs: JobStore;
let outbox: WebhookOutbox;
let batches: BatchStore;
let load: TenantLoad;
let ledger: Ledger;
let final: FinalState;
let failures: FailureLog;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  const { prefix } = handle;
  const common = { redis, prefix, retentionSeconds: RETENTION, maxAttempts: 3, backoffMs: 50 };
  jobs = new JobStore({ ...common, idempotencyTtlSeconds: RETENTION, defaultTimeoutMs: 60_000 });
  outbox = new WebhookOutbox({ ...common, maxAttempts: 8, backoffMs: 1_000 });
  batches = new BatchStore({ ...common, jobs, webhooks: outbox });
  load = new TenantLoad({ redis, prefix, limits: { maxJobsInFlight: 10, maxJobsQueued: 10 } });
  ledger = new Ledger({ redis, prefix, entryTtlSeconds: RETENTION });
  const logger = createLogger({ name: 'final-state-test', level: 'silent' });
  failures = new FailureLog({ redis, prefix });
  final = new FinalState({ load, webhooks: outbox, batches, ledger, failures, logger });
});
afterAll(async () => {
  await outbox?.close();
  await jobs?.close();
  redis?.disconnect();
  await handle?.stop();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const request = { model: 'mock', messages: [{ role: 'user' as const, content: 'hi' }] };

/** A finalized batch of `n` jobs; the ids of its jobs in line order. */
async function batchOf(tenantId: string, n: number) {
  const writer = await batches.open(tenantId);
  const spec = JobSpecSchema.parse({ type: 'completion', request });
  for (let i = 0; i < n; i++) writer.add({ customId: `c${i}`, spec, fingerprint: fingerprint(spec) });
  const { batch } = await writer.finish({ total: n, accepted: n, rejected: 0, fingerprint: `${n} lines` });
  const lines = await batches.resultsPage(tenantId, batch.id, 0, n);
  return { batchId: batch.id, ids: lines.map((l) => l.job_id) };
}

/** What BullMQ hands the `completed` and `failed` listeners, as far as FinalState reads it. */
function job(
  tenantId: string,
  id: string,
  opts: { batchId?: string; webhook?: boolean } & Partial<FinishedJob> = {},
): FinishedJob {
  const { batchId, webhook, ...rest } = opts;
  const data: JobData = {
    v: 1,
    tenantId,
    spec: {
      type: 'completion',
      lane: 'batch',
      priority: 5,
      request,
      ...(webhook ? { webhook: { url: HOOK } } : {}),
    },
    submittedAt: 1_700_000_000_000,
    deadline: Date.now() + 60_000,
    ...(batchId ? { batch: { id: batchId, customId: 'c' } } : {}),
  };
  return { id, data, failedReason: '', ...rest };
}

const entry = (tenantId: string, jobId: string, attempt: number, costNanos: number) => ({
  jobId,
  attempt,
  tenantId,
  lane: 'batch' as const,
  kind: 'completion' as const,
  provider: 'mock',
  model: 'mock',
  proxyId: null,
  outcome: 'upstream_fault' as const,
  interrupted: false,
  latencyMs: 10,
  inputTokens: 0,
  outputTokens: 0,
  bytes: 0,
  costNanos,
  at: Date.now(),
});

describe('FinalState: what happens when a job reaches its final state', () => {
  it('a succeeded job stops counting for its tenant, is counted once on its batch with the cost it returned, and its webhook is enqueued once', async () => {
    const t = tenant();
    const { batchId, ids } = await batchOf(t, 2);
    const id = ids[0] ?? '';
    await load.track(t, [id], Date.now() + 60_000);
    expect(await load.counts(t)).toEqual({ inFlight: 1, queued: 1 });
    const result = {
      type: 'completion' as const,
      model: 'mock',
      upstream_model: 'mock-small',
      message: { role: 'assistant' as const, content: 'hello' },
      finish_reason: 'stop',
      usage: { input_tokens: 6, output_tokens: 1 },
    };
    const done = job(t, id, { batchId, webhook: true, returnvalue: { result, costNanos: 1_500 } });

    await final.completed(done);
    await final.completed(done);

    expect(await load.counts(t)).toEqual({ inFlight: 0, queued: 0 });
    expect(await batches.get(t, batchId)).toMatchObject({
      status: 'in_progress',
      counts: { succeeded: 1, failed: 0, canceled: 0, queued_or_running: 1 },
      cost: { nano_usd: 1_500 },
    });
    const delivery = await outbox.queue.getJob(webhookEventId('job.finished', id, done.data.submittedAt));
    expect(delivery?.data).toMatchObject({ type: 'job.finished', tenantId: t, subjectId: id, url: HOOK });
  });

  it('a failed job is counted with the ledger’s cost over all its attempts; a canceled one as canceled', async () => {
    const t = tenant();
    const { batchId, ids } = await batchOf(t, 2);
    const [failedId, canceledId] = [ids[0] ?? '', ids[1] ?? ''];
    await ledger.record(entry(t, failedId, 1, 200));
    await ledger.record(entry(t, failedId, 2, 300));
    const finishedOn = Date.now();

    await final.failed(job(t, failedId, { batchId, finishedOn, failedReason: 'upstream_error: a 500' }));
    await final.failed(
      job(t, canceledId, { batchId, finishedOn, failedReason: 'canceled: the job was canceled' }),
    );

    expect(await batches.get(t, batchId)).toMatchObject({
      status: 'completed',
      counts: { succeeded: 0, failed: 1, canceled: 1, queued_or_running: 0 },
      cost: { nano_usd: 500 },
    });
  });

  it('a failure before a retry (no finishedOn) changes nothing', async () => {
    const t = tenant();
    const { batchId, ids } = await batchOf(t, 1);
    const id = ids[0] ?? '';
    await load.track(t, [id], Date.now() + 60_000);

    await final.failed(job(t, id, { batchId, webhook: true, failedReason: 'upstream_error: a 500' }));

    expect(await load.counts(t)).toEqual({ inFlight: 1, queued: 1 });
    expect(await batches.get(t, batchId)).toMatchObject({ counts: { failed: 0, queued_or_running: 1 } });
    expect(await outbox.queue.getJob(webhookEventId('job.finished', id, 1_700_000_000_000))).toBeUndefined();
  });

  it('a job that failed for good goes on the failure log with its code; a canceled one, a retried one and a succeeded one do not', async () => {
    const t = tenant();
    const finishedOn = Date.parse('2026-01-02T03:04:05Z');
    await final.failed(job(t, 'ji_failed', { finishedOn, failedReason: 'upstream_error: a 500' }));
    await final.failed(job(t, 'ji_canceled', { finishedOn, failedReason: 'canceled: the job was canceled' }));
    await final.failed(job(t, 'ji_retried', { failedReason: 'upstream_error: a 500' }));
    await final.completed(job(t, 'ji_ok', { finishedOn }));

    const mine = (await failures.recent()).filter((f) => f.tenant_id === t);
    expect(mine).toEqual([
      {
        at: '2026-01-02T03:04:05.000Z',
        code: 'upstream_error',
        message: 'a 500',
        job_id: 'ji_failed',
        tenant_id: t,
        lane: 'batch',
        model: 'mock',
      },
    ]);
  });
});
