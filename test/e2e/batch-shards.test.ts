import type { JobRecord, LanesReport } from '@switchyard/contracts';
import { jobKeys, shardOfJobId } from '@switchyard/jobs';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { buildCli, runCli } from './support/cli.ts';
import { eventOf, WebhookReceiver, webhookTenant, type ReceivedWebhook } from './support/webhook-receiver.ts';
import OpenAI, { toFile } from 'openai';

/**
 * The batch lane spread over 3 queues (`lanes.batch.shards: 3`, docs/adr/0026). Everything is
 * submitted to an API with no worker first (so what is held is exact), then a worker serving all
 * shards is started: batches complete, fair share and priorities hold across the shards, a job on
 * any shard is read, waited on and canceled by its id, and the lanes report sums the shards.
 */
interface Batch {
  id: string;
  status: string;
  counts: { total: number; accepted: number; succeeded: number; failed: number; queued_or_running: number };
}

const SHARDS = { lanes: { batch: { shards: 3 } } };

let redis: RedisHandle;
let mock: MockLlm;
let api: TestStack;
let worker: TestStack | undefined;
let client: Redis;
let receiver: WebhookReceiver;

beforeAll(async () => {
  redis = await startRedis();
  mock = await startMockLlm({ latencyMs: 5 });
  client = new Redis(redis.url);
  receiver = await WebhookReceiver.start();
  await buildCli();
  api = await startTestStack({ redis, mock, worker: false, config: { ...SHARDS, log: { level: 'warn' } } });
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await mock?.close();
  client?.disconnect();
  await receiver?.close();
});

/** The worker (serving all 3 shards), started once, when a test first needs it. */
async function startWorker(): Promise<void> {
  worker ??= await startTestStack({
    redis,
    mock,
    api: false,
    config: {
      ...SHARDS,
      worker: { concurrency: { interactive: 1, batch: 6 } },
      fairness: { bufferJobs: 6 },
      log: { level: 'warn' },
    },
  });
}

const lines = (n: number, who: string, priority?: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${who}-${i}`,
      type: 'completion',
      ...(priority ? { priority } : {}),
      request: { model: 'mock', messages: [{ role: 'user', content: `${who} ${i}` }] },
    }),
  ).join('\n');

async function submitBatch(tenant: Api, n: number, who: string, priority?: number): Promise<string> {
  const res = await tenant.post<Batch>('/v1/batches', lines(n, who, priority), {
    'content-type': 'application/x-ndjson',
  });
  expect(res.status).toBe(202);
  expect(res.body.counts.accepted).toBe(n);
  return res.body.id;
}

const batchOf = async (tenant: Api, id: string) => (await tenant.get<Batch>(`/v1/batches/${id}`)).body;
const done = (b: Batch) => b.counts.succeeded + b.counts.failed;
const batchLane = async () =>
  (await api.admin.get<LanesReport>('/v1/admin/lanes')).body.lanes.find((l) => l.lane === 'batch');

describe('a batch lane of 3 shards', () => {
  it('spreads jobs over every shard, holds them fairly, runs them in priority order, and reads, waits on and cancels any of them by id', async () => {
    const [a, b, p, c] = [await api.tenant(), await api.tenant(), await api.tenant(), await api.tenant()];
    const bigA = await submitBatch(a.api, 900, 'a');
    const smallB = await submitBatch(b.api, 60, 'b');
    const lowP = await submitBatch(p.api, 300, 'p', 10);
    const urgent: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await p.api.post<JobRecord>(
        '/v1/jobs',
        completion(`urgent ${i}`, { lane: 'batch', priority: 1 }),
      );
      expect(r.status).toBe(202);
      urgent.push(r.body.id);
    }
    const single: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await c.api.post<JobRecord>('/v1/jobs', completion(`c ${i}`, { lane: 'batch' }));
      single.push(r.body.id);
    }
    const total = 900 + 60 + 300 + 12 + 30;

    // Ids name their shard; every shard's queue (its own hash tag) holds some of the jobs.
    expect(new Set(single.map(shardOfJobId))).toEqual(new Set([0, 1, 2]));
    const pre = redis.prefix;
    const perShard = await Promise.all(
      [0, 1, 2].map((shard) => client.zcard(`${pre}:${jobKeys(pre).queueName('batch', shard)}:delayed`)),
    );
    expect(perShard.reduce((x, y) => x + y, 0)).toBe(total);
    for (const n of perShard) expect(n).toBeGreaterThan(total / 6);

    // The lanes report sums the shards: every job is held by the fair share, none ready.
    // (A reading serves callers for a second: poll until one taken after the submissions.)
    const held = await until(
      'the lanes report to count every job',
      async () => {
        const lane = await batchLane();
        return lane?.delayed.total === total ? lane : undefined;
      },
      10_000,
      200,
    );
    expect(held).toMatchObject({ ready: 0, delayed: { total, fair_share: total, retrying: 0 } });
    // So do the queue gauges on /metrics (a scrape whose read failed keeps the last values: poll).
    const gauge = async () => {
      const text = await (await fetch(`${api.url}/metrics`)).text();
      return Number(/^switchyard_queue_jobs\{lane="batch",state="delayed"[^}]*\} (\d+)$/m.exec(text)?.[1]);
    };
    await until(
      'the batch lane gauge to count every job',
      async () => (await gauge()) === total,
      10_000,
      200,
    );
    // And the ops page's figures (the same report, read with the admin key).
    await until(
      'the ops page to count every job',
      async () => {
        const page = await api.admin.get<{ lanes: LanesReport }>('/admin/api/overview');
        return page.body.lanes.lanes.find((l) => l.lane === 'batch')?.delayed.fair_share === total;
      },
      10_000,
      200,
    );

    // A job on a shard past the first is read and canceled by its id alone.
    const onShard2 = single.find((id) => shardOfJobId(id) === 2) ?? '';
    expect(onShard2.startsWith('jb2_')).toBe(true);
    expect((await c.api.get<JobRecord>(`/v1/jobs/${onShard2}`)).body).toMatchObject({
      id: onShard2,
      status: 'queued',
    });
    expect((await c.api.delete<JobRecord>(`/v1/jobs/${onShard2}`)).status).toBe(200);
    const onShard1 = single.find((id) => shardOfJobId(id) === 1) ?? '';

    await startWorker();

    // A waiter on a shard-1 job is woken by that shard's events.
    const waited = await c.api.get<JobRecord>(`/v1/jobs/${onShard1}`, { prefer: 'wait=60' });
    expect(waited.body).toMatchObject({ id: onShard1, status: 'succeeded' });

    // Fair share across the shards: B's 60 jobs finish while most of A's 900 wait.
    const doneB = await until(
      'B to finish',
      async () => {
        const r = await batchOf(b.api, smallB);
        return r.status === 'completed' ? r : undefined;
      },
      120_000,
      100,
    );
    expect(doneB.counts.succeeded).toBe(60);
    expect(done(await batchOf(a.api, bigA))).toBeLessThan(450);

    // Priorities across the shards: P's priority-1 jobs finish before most of its priority-10 ones.
    await until(
      'the urgent jobs to finish',
      async () => {
        const records = await Promise.all(urgent.map((id) => p.api.get<JobRecord>(`/v1/jobs/${id}`)));
        return records.every((r) => r.body.status === 'succeeded');
      },
      120_000,
      100,
    );
    expect(done(await batchOf(p.api, lowP))).toBeLessThan(100);

    // Everything completes; the job canceled while queued on shard 2 never ran.
    for (const [tenant, id] of [
      [a.api, bigA],
      [p.api, lowP],
    ] as const)
      await until(
        'the batches to complete',
        async () => (await batchOf(tenant, id)).status === 'completed',
        180_000,
        250,
      );
    expect((await batchOf(a.api, bigA)).counts.succeeded).toBe(900);
    const canceled = await c.api.get<JobRecord>(`/v1/jobs/${onShard2}`, { prefer: 'wait=30' });
    expect(canceled.body).toMatchObject({ status: 'canceled', attempts: 0 });
    const after = await until(
      'the lane to drain',
      async () => {
        const lane = await batchLane();
        return lane && lane.ready + lane.active + lane.delayed.total === 0 ? lane : undefined;
      },
      60_000,
      250,
    );
    expect(after.delayed.fair_share).toBe(0);
  }, 300_000);

  it("a batch's webhooks, its results, the CLI and an OpenAI batch's output file read the jobs of every shard", async () => {
    await startWorker();
    const { api: tenant } = await webhookTenant(api, []);
    const key = tenant.key ?? '';
    const batchUrl = receiver.on('/sharded/batch', () => ({ status: 200 }));
    const lineUrl = receiver.on('/sharded/line', () => ({ status: 200 }));
    const ask = (content: string) => ({ model: 'mock', messages: [{ role: 'user', content }] });
    const body = Array.from({ length: 30 }, (_, i) => ({
      custom_id: `w-${i}`,
      type: 'completion',
      request: ask(`w ${i}`),
      webhook: { url: lineUrl },
    }));
    const res = await tenant.post<Batch>(`/v1/batches?webhook_url=${encodeURIComponent(batchUrl)}`, body);
    expect(res.status).toBe(202);
    const [done] = await until(
      'batch.completed',
      () => (receiver.at('/sharded/batch').length ? receiver.at('/sharded/batch') : undefined),
      60_000,
    );
    expect(eventOf<Batch>(done as ReceivedWebhook).data.counts).toMatchObject({
      succeeded: 30,
      queued_or_running: 0,
    });
    await until('every line event', () => receiver.at('/sharded/line').length >= 30, 60_000);
    const lineJobs = receiver.at('/sharded/line').map((r) => eventOf<JobRecord>(r).data);
    expect(new Set(lineJobs.map((j) => shardOfJobId(j.id)))).toEqual(new Set([0, 1, 2]));
    expect(lineJobs.every((j) => j.status === 'succeeded')).toBe(true);

    const results = await tenant.get<string>(`/v1/batches/${res.body.id}/results`);
    const rows = results.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { job_id: string; status: string });
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);

    // The CLI reads a job on a shard past the first by its id alone.
    const far = rows.find((r) => shardOfJobId(r.job_id) === 2)?.job_id ?? '';
    const cli = await runCli(['--json', 'jobs', 'get', far], {
      SWITCHYARD_URL: api.url,
      SWITCHYARD_API_KEY: key,
    });
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ id: far, status: 'succeeded' });

    const sdk = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: (await api.tenant()).key, maxRetries: 0 });
    const jsonl = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({
        custom_id: `o-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: ask(`o ${i}`),
      }),
    ).join('\n');
    const file = await sdk.files.create({
      file: await toFile(Buffer.from(jsonl), 'b.jsonl'),
      purpose: 'batch',
    });
    const created = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const finished = await until(
      'the OpenAI batch to complete',
      async () => {
        const b = await sdk.batches.retrieve(created.id);
        return b.status === 'completed' ? b : undefined;
      },
      60_000,
      200,
    );
    const output = (await (await sdk.files.content(finished.output_file_id ?? '')).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { response: { status_code: number; request_id: string } });
    expect(output).toHaveLength(30);
    expect(output.every((l) => l.response.status_code === 200)).toBe(true);
    expect(new Set(output.map((l) => shardOfJobId(l.response.request_id)))).toEqual(new Set([0, 1, 2]));
  }, 180_000);
});
