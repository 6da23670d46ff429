import { SwitchyardApiError, SwitchyardClient } from '@switchyard/client';
import type { BatchView, JobRecord } from '@switchyard/contracts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';

const ask = (content: string) => ({
  type: 'completion' as const,
  request: { model: MOCK_MODEL, messages: [{ role: 'user' as const, content }] },
});
const line = (customId: string, content: string) => ({ custom_id: customId, ...ask(content) });

/** The error a call rejects with. */
async function failure(call: Promise<unknown>): Promise<SwitchyardApiError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwitchyardApiError);
  return err as SwitchyardApiError;
}

describe('@switchyard/client against a real API and worker', () => {
  let t: TestStack;
  let sy: SwitchyardClient;
  let dir: string;

  beforeAll(async () => {
    t = await startTestStack();
    const { key } = await t.tenant();
    sy = new SwitchyardClient({ baseUrl: t.url, apiKey: key });
    dir = await mkdtemp(join(tmpdir(), 'sy-client-'));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('submits a job and waits for it over server-sent events, seeing each status', async () => {
    const job = await sy.jobs.submit(ask('hello'));
    expect(job.object).toBe('job');
    const seen: string[] = [];
    const done = await sy.jobs.wait(job.id, { timeoutMs: 15_000, onStatus: (j) => seen.push(j.status) });
    expect(done.status).toBe('succeeded');
    expect(done.result?.type).toBe('completion');
    expect(seen.at(-1)).toBe('succeeded');
    const read = await sy.jobs.get(job.id);
    expect(read.attempt_log?.length).toBe(1);
  });

  it('the same idempotency key answers the same job', async () => {
    const a = await sy.jobs.submit(ask('once'), { idempotencyKey: 'client-once-1' });
    const b = await sy.jobs.submit(ask('once'), { idempotencyKey: 'client-once-1' });
    expect(b.id).toBe(a.id);
    const c = await sy.jobs.submit(ask('once'));
    expect(c.id).not.toBe(a.id);
  });

  it('types errors by the problem code, never by message', async () => {
    const invalid = await failure(
      sy.jobs.submit({ type: 'completion', request: { model: MOCK_MODEL } } as never),
    );
    expect([invalid.code, invalid.status]).toEqual(['validation_failed', 400]);
    expect(invalid.problem?.errors?.length).toBeGreaterThan(0);
    const missing = await failure(sy.jobs.get('job_does_not_exist'));
    expect([missing.code, missing.status]).toEqual(['not_found', 404]);
    const stranger = new SwitchyardClient({ baseUrl: t.url, apiKey: 'sy_not_a_key' });
    const refused = await failure(stranger.jobs.get('x'));
    expect([refused.code, refused.status]).toEqual(['unauthorized', 401]);
  });

  it('submits a batch from an array, reports rejected lines, and streams every result', async () => {
    const lines = [
      line('a', 'one'),
      line('b', 'two'),
      { custom_id: 'bad', type: 'completion' },
      line('c', 'three'),
    ];
    const created = await sy.batches.create({ lines: lines as never });
    expect(created.counts).toMatchObject({ total: 4, accepted: 3, rejected: 1 });
    expect(created.rejected_lines.map((r) => [r.line, r.custom_id, r.code])).toEqual([
      [3, 'bad', 'validation_failed'],
    ]);
    const readings: BatchView[] = [];
    const done = await sy.batches.wait(created.id, { intervalMs: 100, onProgress: (b) => readings.push(b) });
    expect(done.counts.succeeded).toBe(3);
    expect(readings.at(-1)?.status).toBe('completed');
    const results = [];
    for await (const r of sy.batches.results(created.id)) results.push(r);
    expect(results.map((r) => [r.custom_id, r.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ]);
    const resumed = [];
    for await (const r of sy.batches.results(created.id, { offset: 2 })) resumed.push(r.custom_id);
    expect(resumed).toEqual(['c']);
    const badOffset = await failure(sy.batches.results(created.id, { offset: -1 }).next());
    expect(badOffset.code).toBe('validation_failed');
  });

  it('uploads a batch file as a stream with progress up to its size', async () => {
    const path = join(dir, 'batch.jsonl');
    const text = Array.from({ length: 200 }, (_, i) => JSON.stringify(line(`f${i}`, `file ${i}`))).join('\n');
    await writeFile(path, text);
    const progress: number[] = [];
    const created = await sy.batches.create(
      { path },
      { onProgress: (p) => progress.push(p.bytesSent / (p.totalBytes ?? Number.NaN)) },
    );
    expect(created.counts.accepted).toBe(200);
    expect(progress.at(-1)).toBe(1);
    const done = await sy.batches.wait(created.id, { intervalMs: 100 });
    expect(done.counts.succeeded).toBe(200);
  });

  it('uploads a batch from an async iterable of lines', async () => {
    async function* generate() {
      for (let i = 0; i < 50; i++) yield line(`g${i}`, `gen ${i}`);
    }
    const created = await sy.batches.create({ lines: generate() });
    expect(created.counts.accepted).toBe(50);
  });

  it('reads usage with the retry share, grouped as asked', async () => {
    const report = await sy.usage({ groupBy: 'model' });
    expect(report.object).toBe('usage');
    expect(report.rows.find((r) => r.key === MOCK_MODEL)?.attempts).toBeGreaterThan(0);
    expect(typeof report.retry_share).toBe('number');
    const bad = await failure(sy.usage({ from: 'yesterday' }));
    expect(bad.code).toBe('validation_failed');
  });

  it('admin: creates a tenant and a key that works, then revokes it', async () => {
    const admin = new SwitchyardClient({ baseUrl: t.url, apiKey: t.adminKey });
    const tenant = await admin.admin.createTenant({ name: 'client test' });
    expect(tenant.object).toBe('tenant');
    const key = await admin.admin.createKey(tenant.id, { scopes: ['jobs:read', 'jobs:write'] });
    const theirs = new SwitchyardClient({ baseUrl: t.url, apiKey: key.key });
    expect((await theirs.usage()).rows).toEqual([]);
    await admin.admin.revokeKey(tenant.id, key.id);
    expect((await failure(theirs.usage())).code).toBe('unauthorized');
    expect(await admin.admin.proxyTable()).toMatch(/^0 proxies: /);
  });
});

describe('@switchyard/client: cancel', () => {
  let t: TestStack;
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm({ latencyMs: 30_000 });
    t = await startTestStack({ mock });
  });
  afterAll(async () => {
    await t?.close();
    await mock?.close();
  });

  it('cancels a running job, and wait resolves with it canceled', async () => {
    const { key } = await t.tenant();
    const sy = new SwitchyardClient({ baseUrl: t.url, apiKey: key });
    const job = await sy.jobs.submit(ask('slow'));
    await expect.poll(async () => (await sy.jobs.get(job.id)).status).toBe('running');
    await sy.jobs.cancel(job.id);
    const done = await sy.jobs.wait(job.id, { timeoutMs: 10_000 });
    expect(done.status).toBe('canceled');
    expect(done.finished_at).not.toBeNull();
  });

  it('cancels a batch: cancelling, then wait resolves with it cancelled; a finished batch is batch_finished', async () => {
    const { key } = await t.tenant();
    const sy = new SwitchyardClient({ baseUrl: t.url, apiKey: key });
    const created = await sy.batches.create({
      lines: [line('a', 'slow a'), line('b', 'slow b'), line('c', 'slow c')],
    });
    const cancelling = await sy.batches.cancel(created.id);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    const done = await sy.batches.wait(created.id, { intervalMs: 100 });
    expect(done.status).toBe('cancelled');
    expect(done.counts).toMatchObject({ accepted: 3, canceled: 3, queued_or_running: 0 });
    expect((await sy.batches.cancel(created.id)).status).toBe('cancelled');
    const empty = await sy.batches.create({ lines: ['not json'] });
    const err = await failure(sy.batches.cancel(empty.id));
    expect([err.status, err.code]).toEqual([409, 'batch_finished']);
    expect((await failure(sy.batches.cancel('bt_0000000000000000000000'))).code).toBe('not_found');
  });

  it('lists the tenant’s batches newest first, a page at a time', async () => {
    const { key } = await t.tenant();
    const sy = new SwitchyardClient({ baseUrl: t.url, apiKey: key });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await sy.batches.create({ lines: ['not json'] })).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await sy.batches.list({ limit: 2 });
    expect(first).toMatchObject({ object: 'list', first_id: ids[2], last_id: ids[1], has_more: true });
    expect(first.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    const second = await sy.batches.list({ after: first.last_id ?? '', limit: 2 });
    expect(second.data.map((b) => b.id)).toEqual([ids[0]]);
    expect(second.has_more).toBe(false);
    expect((await failure(sy.batches.list({ limit: 0 }))).code).toBe('validation_failed');
  });
});

/** A loopback server that answers each request with the next scripted step. */
async function scripted(steps: ((res: ServerResponse) => void)[]) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    const step = steps[Math.min(seen.length - 1, steps.length - 1)];
    step?.(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new SwitchyardClient({
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: 'sy_x',
    retryDelayMs: 10,
  });
  return { seen, client, close: () => new Promise((resolve) => server.close(resolve)) };
}
const problem =
  (status: number, code: string, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res
      .writeHead(status, { 'content-type': 'application/problem+json', ...headers })
      .end(JSON.stringify({ type: 'x', title: code, status, code, detail: `${code} here` }));
const accepted = (res: ServerResponse) =>
  res
    .writeHead(202, { 'content-type': 'application/json' })
    .end(JSON.stringify({ id: 'job_1', status: 'queued' }));

describe('@switchyard/client retries', () => {
  it('retries 503 and 429 after Retry-After with the same Idempotency-Key', async () => {
    const s = await scripted([
      problem(503, 'redis_unavailable', { 'retry-after': '0' }),
      problem(429, 'rate_limited', { 'retry-after': '0' }),
      accepted,
    ]);
    const job = (await s.client.jobs.submit(ask('x'))) as Pick<JobRecord, 'id'>;
    expect(job.id).toBe('job_1');
    const keys = s.seen.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    await s.close();
  });

  it('retries a connection cut off before an answer', async () => {
    const s = await scripted([(res) => res.socket?.destroy(), accepted]);
    expect(((await s.client.jobs.submit(ask('x'))) as Pick<JobRecord, 'id'>).id).toBe('job_1');
    expect(s.seen).toHaveLength(2);
    await s.close();
  });

  it('never retries any other 4xx', async () => {
    const s = await scripted([problem(409, 'idempotency_conflict'), accepted]);
    const err = await failure(s.client.jobs.submit(ask('x')));
    expect([err.code, err.status, err.detail]).toEqual([
      'idempotency_conflict',
      409,
      'idempotency_conflict here',
    ]);
    expect(s.seen).toHaveLength(1);
    await s.close();
  });

  it('gives up after maxRetries and says how the last try failed', async () => {
    const s = await scripted([problem(503, 'redis_unavailable', { 'retry-after': '0' })]);
    const err = await failure(s.client.jobs.get('job_1'));
    expect([err.code, err.status]).toEqual(['redis_unavailable', 503]);
    expect(s.seen).toHaveLength(5);
    await s.close();
  });

  it('does not resend a one-shot stream body', async () => {
    const s = await scripted([problem(503, 'redis_unavailable', { 'retry-after': '0' }), accepted]);
    async function* once() {
      yield line('a', 'x');
    }
    const err = await failure(s.client.batches.create({ lines: once() }));
    expect(err.status).toBe(503);
    expect(s.seen).toHaveLength(1);
    await s.close();
  });
});
