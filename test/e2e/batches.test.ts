import type { JobRecord, Problem } from '@switchyard/contracts';
import { Redis } from 'ioredis';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

interface Batch {
  id: string;
  object: 'batch';
  status: 'in_progress' | 'completed';
  counts: Record<string, number>;
  cost: { usd: number; nano_usd: number };
  created_at: string;
  rejected_lines: { line: number; custom_id: string | null; code: string; errors: { path: string }[] }[];
  rejected_lines_truncated: boolean;
}
type ResultLine = Pick<JobRecord, 'status' | 'result' | 'error' | 'cost'> & {
  custom_id: string;
  job_id: string;
};

const NDJSON = { 'content-type': 'application/x-ndjson' };
const ask = (content: string) => ({ model: MOCK_MODEL, messages: [{ role: 'user', content }] });
const jobLine = (customId: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  type: 'completion',
  request: ask(content),
  ...extra,
});
const openAiLine = (customId: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { ...ask(content), max_tokens: 8 },
  ...extra,
});
const ndjson = (lines: unknown[]) =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

/** GET /results as text (a one-line NDJSON body is also valid JSON, so Api.get would parse it). */
async function results(api: Api, id: string): Promise<{ type: string; lines: ResultLine[] }> {
  const headers = { authorization: `Bearer ${api.key ?? ''}` };
  const res = await request(`${api.url}/v1/batches/${id}/results`, { headers });
  const text = await res.body.text();
  const lines = res.statusCode === 200 ? text.split('\n').filter(Boolean) : [];
  return { type: String(res.headers['content-type']), lines: lines.map((l) => JSON.parse(l) as ResultLine) };
}

const FINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);
async function finishedResults(api: Api, id: string): Promise<ResultLine[]> {
  const lines = await until(`batch ${id} to finish`, async () => {
    const r = await results(api, id);
    return r.lines.every((l) => FINAL.has(l.status)) ? r.lines : undefined;
  });
  return lines ?? [];
}

/** BullMQ jobs stored for this stack (job hashes only, not their sub-keys). */
async function storedJobs(t: TestStack): Promise<number> {
  const redis = new Redis(t.redis.url);
  try {
    const found = await redis.keys(`${t.config.redis.prefix}:{*}:j[ib]_*`);
    return found.filter((k) => /:j[ib]_[0-9a-fk]+$/.test(k)).length;
  } finally {
    redis.disconnect();
  }
}

let t: TestStack;
let api: Api;

beforeAll(async () => {
  t = await startTestStack();
  api = (await t.tenant()).api;
});
afterAll(async () => t?.close());

describe('POST /v1/batches', () => {
  it('a JSON array batch runs every line and the results come back in line order', async () => {
    const lines = [0, 1, 2, 3, 4].map((i) => jobLine(`doc-${i}`, `say ${i * 7}`));
    const res = await api.post<Batch>('/v1/batches', lines);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/batches/${res.body.id}`);
    expect(res.body).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      counts: { total: 5, accepted: 5, rejected: 0 },
      rejected_lines: [],
      rejected_lines_truncated: false,
    });
    const done = await finishedResults(api, res.body.id);
    expect(done.map((l) => l.custom_id)).toEqual(['doc-0', 'doc-1', 'doc-2', 'doc-3', 'doc-4']);
    for (const line of done) {
      expect(line).toMatchObject({ status: 'succeeded', error: null, result: { model: 'mock' } });
      expect(line.cost.nano_usd).toBeGreaterThan(0);
    }
    const job = await api.get<JobRecord>(`/v1/jobs/${done[0]?.job_id ?? ''}`);
    expect(job.body).toMatchObject({ status: 'succeeded', lane: 'batch' });
  });

  it('an NDJSON batch mixing job specs and OpenAI Batch API lines runs them all on the batch lane', async () => {
    const body = ndjson([
      openAiLine('req-1', 'first'),
      jobLine('req-2', 'second', { priority: 1, metadata: { doc: '2' } }),
      openAiLine('req-3', 'third'),
    ]);
    const res = await api.post<Batch>('/v1/batches', `${body}\n`, NDJSON);
    expect(res.status).toBe(202);
    expect(res.body.counts).toMatchObject({ total: 3, accepted: 3, rejected: 0 });
    const done = await finishedResults(api, res.body.id);
    expect(done.map((l) => [l.custom_id, l.status])).toEqual([
      ['req-1', 'succeeded'],
      ['req-2', 'succeeded'],
      ['req-3', 'succeeded'],
    ]);
    const openAiJob = await api.get<JobRecord>(`/v1/jobs/${done[2]?.job_id ?? ''}`);
    expect(openAiJob.body).toMatchObject({ lane: 'batch', type: 'completion' });
    const r = await results(api, res.body.id);
    expect(r.type).toContain('application/x-ndjson');
  });

  it('invalid lines are reported with line numbers and field paths while the valid ones run', async () => {
    const body = ndjson([
      jobLine('ok-1', 'fine'),
      '{"custom_id": "broken", ',
      jobLine('bad-role', 'x', {
        request: { model: MOCK_MODEL, messages: [{ role: 'robot', content: 'x' }] },
      }),
      '',
      openAiLine('bad-model', 'x', { body: { ...ask('x'), model: 'nope' } }),
      openAiLine('embed', 'x', { url: '/v1/embeddings' }),
      { type: 'completion', request: ask('no id') },
      jobLine('ok-1', 'duplicate id'),
      jobLine('ok-2', 'also fine'),
    ]);
    const res = await api.post<Batch>('/v1/batches', body, NDJSON);
    expect(res.status).toBe(202);
    expect(res.body.counts).toMatchObject({ total: 8, accepted: 2, rejected: 6 });
    const paths = (errors: { path: string }[]) => errors.map((e) => e.path);
    expect(res.body.rejected_lines.map((r) => [r.line, r.custom_id, r.code, paths(r.errors)])).toEqual([
      [2, null, 'invalid_json', ['(root)']],
      [3, 'bad-role', 'validation_failed', ['request.messages[0].role']],
      [5, 'bad-model', 'unknown_model', ['body.model']],
      [6, 'embed', 'validation_failed', ['url']],
      [7, null, 'validation_failed', ['custom_id']],
      [8, 'ok-1', 'already_exists', ['custom_id']],
    ]);
    expect(res.body.rejected_lines[5]?.errors[0]).toMatchObject({
      message: expect.stringContaining('line 1'),
    });
    const done = await finishedResults(api, res.body.id);
    expect(done.map((l) => [l.custom_id, l.status])).toEqual([
      ['ok-1', 'succeeded'],
      ['ok-2', 'succeeded'],
    ]);
    expect(done[0]?.result).toMatchObject({ type: 'completion' });
  });

  it('resubmitting with the same Idempotency-Key enqueues nothing new and answers the same batch', async () => {
    const lines = [jobLine('a', 'once only'), openAiLine('b', 'once only too')];
    const first = await api.post<Batch>('/v1/batches', lines, { 'idempotency-key': 'nightly-42' });
    expect(first.status).toBe(202);
    await finishedResults(api, first.body.id);
    const calls = t.mock.stats().calls;
    const jobs = await storedJobs(t);
    const again = await api.post<Batch>('/v1/batches', `${ndjson(lines)}\n`, {
      ...NDJSON,
      'idempotency-key': 'nightly-42',
    });
    expect([200, 202]).toContain(again.status);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.counts).toMatchObject({ total: 2, accepted: 2 });
    const other = await api.post<Problem>('/v1/batches', [jobLine('a', 'another body')], {
      'idempotency-key': 'nightly-42',
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedJobs(t)).toBe(jobs);
    expect(t.mock.stats().calls).toBe(calls);
  });

  it('GET /v1/batches/{id} counts finished jobs and their cost, then reports completed', async () => {
    // Needs the worker to call BatchStore.recordFinished when a batch job finishes.
    const res = await api.post<Batch>('/v1/batches', [jobLine('x', 'count me'), jobLine('y', 'me too')]);
    const done = await until('batch completed', async () => {
      const b = await api.get<Batch>(`/v1/batches/${res.body.id}`);
      return b.body.status === 'completed' ? b.body : undefined;
    });
    if (!done) throw new Error('unreachable');
    const lines = (await results(api, res.body.id)).lines;
    expect(done).toMatchObject({
      id: res.body.id,
      object: 'batch',
      counts: { total: 2, accepted: 2, queued_or_running: 0, succeeded: 2, failed: 0, canceled: 0 },
    });
    expect(done.cost.nano_usd).toBe(lines.reduce((sum, l) => sum + l.cost.nano_usd, 0));
    expect(Date.parse(done.created_at)).toBeLessThanOrEqual(Date.now());
  });

  it('bodies that are not a batch are refused whole', async () => {
    const notArray = await api.post<Problem>('/v1/batches', { custom_id: 'a' });
    expect(notArray.body).toMatchObject({ status: 400, code: 'validation_failed' });
    const empty = await api.post<Problem>('/v1/batches', '\n\n', NDJSON);
    expect(empty.body).toMatchObject({ status: 400, code: 'validation_failed' });
    const text = await api.post<Problem>('/v1/batches', 'hello', { 'content-type': 'text/plain' });
    expect(text.body).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });
});

describe('batches and tenants', () => {
  it('another tenant’s batch is 404, and the routes need their scopes', async () => {
    const res = await api.post<Batch>('/v1/batches', [jobLine('mine', 'private')]);
    const other = (await t.tenant()).api;
    for (const path of [`/v1/batches/${res.body.id}`, `/v1/batches/${res.body.id}/results`]) {
      const got = await other.get<Problem>(path);
      expect(got.status).toBe(404);
      expect(got.body.code).toBe('not_found');
    }
    expect((await api.get(`/v1/batches/${res.body.id}`)).status).toBe(200);
    const readOnly = (await t.tenant(['jobs:read'])).api;
    expect((await readOnly.post<Problem>('/v1/batches', [jobLine('a', 'b')])).body.code).toBe('forbidden');
    const writeOnly = (await t.tenant(['jobs:write'])).api;
    expect((await writeOnly.get<Problem>(`/v1/batches/${res.body.id}`)).body.code).toBe('forbidden');
  });
});

describe('a 50,000-line NDJSON batch', () => {
  let quiet: TestStack;
  beforeAll(async () => {
    quiet = await startTestStack({ worker: false, mock: t.mock });
  });
  afterAll(async () => quiet?.close());

  it('is accepted as a stream with bounded memory, and its results stream back in order', async () => {
    const LINES = 50_000;
    const { key } = await quiet.tenant();
    async function* body() {
      for (let i = 0; i < LINES; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j++)
          chunk += `${JSON.stringify(openAiLine(`line-${j}`, `document ${j}`))}\n`;
        yield chunk;
      }
    }
    const before = process.memoryUsage();
    const peak = { heapUsed: before.heapUsed, rss: before.rss };
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      peak.rss = Math.max(peak.rss, m.rss);
    }, 20);
    const started = performance.now();
    const res = await request(`${quiet.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...NDJSON },
      body: Readable.from(body()),
    });
    const batch = (await res.body.json()) as Batch;
    const acceptMs = performance.now() - started;
    clearInterval(sampler);
    const after = process.memoryUsage();
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    console.log(
      `50,000-line NDJSON batch accepted in ${(acceptMs / 1000).toFixed(2)} s; ` +
        `heapUsed ${mb(before.heapUsed)} -> peak ${mb(peak.heapUsed)} (+${mb(peak.heapUsed - before.heapUsed)}), ` +
        `after ${mb(after.heapUsed)}; rss ${mb(before.rss)} -> peak ${mb(peak.rss)} (+${mb(peak.rss - before.rss)})`,
    );
    expect(res.statusCode).toBe(202);
    expect(batch.counts).toMatchObject({ total: LINES, accepted: LINES, queued_or_running: LINES });
    expect(await storedJobs(quiet)).toBe(LINES);

    const readStarted = performance.now();
    const out = await request(`${quiet.url}/v1/batches/${batch.id}/results`, {
      headers: { authorization: `Bearer ${key}` },
    });
    let [count, outOfOrder, rest] = [0, 0, ''];
    for await (const chunk of out.body.setEncoding('utf8')) {
      const parts = (rest + (chunk as string)).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        const line = JSON.parse(part) as ResultLine;
        if (line.custom_id !== `line-${count}` || line.status !== 'queued') outOfOrder++;
        count++;
      }
    }
    console.log(
      `its 50,000 result lines streamed back in ${((performance.now() - readStarted) / 1000).toFixed(2)} s`,
    );
    expect(count).toBe(LINES);
    expect(outOfOrder).toBe(0);
  }, 180_000);
});
