import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import OpenAI, { toFile } from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_MODEL, MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

/** OpenAI's batch output/error line. */
interface OutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string; line?: number } | null;
}

const MAX_BYTES = 4 * 1024 * 1024;
const MAX_LINES = 6_000;

let t: TestStack;
let mock: MockLlm;
let slowMock: MockLlm;
let client: OpenAI;
let key: string;

beforeAll(async () => {
  mock = await startMockLlm();
  slowMock = await startMockLlm({ latencyMs: 400 });
  const model = (baseUrl: string, upstreamModel: string) => ({
    baseUrl: `${baseUrl}/v1`,
    upstreamModel,
    price: MOCK_PRICE,
    timeoutMs: 5_000,
  });
  t = await startTestStack({
    mock,
    config: {
      files: { maxBytes: MAX_BYTES, maxLines: MAX_LINES },
      worker: { concurrency: { batch: 32 } },
      models: {
        // The mock answers 404 model_not_found: the job fails as upstream_rejected, never retried.
        'mock-broken': model(mock.url, 'no-such-model'),
        'mock-slow': model(slowMock.url, 'mock-small'),
      },
    },
  });
  const tenant = await t.tenant();
  key = tenant.key;
  // The broker is the single retry authority: the SDK's own retries are off.
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
  await slowMock?.close();
});

const request = (customId: string, model: string, content: string) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content }], max_tokens: 16 },
});
const jsonl = (lines: unknown[]) =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const parseLines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as OutputLine);

async function upload(c: OpenAI, text: string) {
  return c.files.create({ file: await toFile(Buffer.from(text), 'batch.jsonl'), purpose: 'batch' });
}

async function settled(c: OpenAI, id: string, timeoutMs = 150_000) {
  const FINAL = new Set(['completed', 'failed', 'cancelled', 'expired']);
  const batch = await until(
    `batch ${id} to finish`,
    async () => {
      const b = await c.batches.retrieve(id);
      return FINAL.has(b.status) ? b : undefined;
    },
    timeoutMs,
    200,
  );
  return batch;
}

describe('the OpenAI Files + Batches flow with the official openai SDK', () => {
  it('runs a 5,000-line file: output lines by custom_id, failures and invalid lines in the error file, metadata kept', async () => {
    const lines: unknown[] = [];
    for (let i = 0; i < 4_900; i++) lines.push(request(`ok-${i}`, MOCK_MODEL, `document ${i}`));
    for (let i = 0; i < 50; i++) lines.push(request(`broken-${i}`, 'mock-broken', `document ${i}`));
    for (let i = 0; i < 20; i++) lines.push(`{"custom_id": "bad-json-${i}", `);
    for (let i = 0; i < 15; i++) lines.push(request(`unknown-${i}`, 'gpt-nope', 'hi'));
    for (let i = 0; i < 15; i++)
      lines.push({ custom_id: `no-body-${i}`, method: 'POST', url: '/v1/chat/completions' });
    const text = jsonl(lines);
    // 5xx answers the retry authority retries on another attempt (1% per call: every job still
    // succeeds within its 3 attempts).
    mock.setFaults({ error5xx: 0.01, seed: 19 });
    const file = await upload(client, text);
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      bytes: Buffer.byteLength(text),
      filename: 'batch.jsonl',
    });
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
    expect(await (await client.files.content(file.id)).text()).toBe(text);

    const started = performance.now();
    const metadata = { project: 'rag-ingest', run: '2026-12-05' };
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata,
    });
    const acceptMs = performance.now() - started;
    expect(created).toMatchObject({
      object: 'batch',
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata,
      request_counts: { total: 5_000 },
    });
    expect(['in_progress', 'completed']).toContain(created.status);
    expect(typeof created.created_at).toBe('number');
    expect(created.expires_at).toBe(created.created_at + 24 * 3600);

    const done = await settled(client, created.id);
    const runMs = performance.now() - started;
    mock.setFaults({});
    expect(done.status).toBe('completed');
    const unexpected = await fetch(`${t.url}/v1/batches/${done.id}/results`, {
      headers: { authorization: `Bearer ${key}` },
    }).then(async (r) =>
      (await r.text())
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { custom_id: string; status: string; error: unknown })
        .filter((l) => l.custom_id.startsWith('ok-') && l.status !== 'succeeded'),
    );
    expect(unexpected).toEqual([]);
    expect(done.request_counts).toEqual({ total: 5_000, completed: 4_900, failed: 100 });
    expect(done.metadata).toEqual(metadata);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    // Switchyard's own fields ride along.
    const sy = done as unknown as { counts: Record<string, number>; cost: { nano_usd: number } };
    expect(sy.counts).toMatchObject({
      total: 5_000,
      accepted: 4_950,
      rejected: 50,
      succeeded: 4_900,
      failed: 50,
    });
    expect(sy.cost.nano_usd).toBeGreaterThan(0);
    expect(t.mock.stats().byOutcome['5xx']).toBeGreaterThan(0);

    const output = parseLines(await (await client.files.content(done.output_file_id!)).text());
    expect(output).toHaveLength(4_900);
    const byId = new Map(output.map((l) => [l.custom_id, l]));
    for (let i = 0; i < 4_900; i++) {
      const line = byId.get(`ok-${i}`);
      expect(line?.error).toBeNull();
      expect(line?.response?.status_code).toBe(200);
      const body = line?.response?.body as { object: string; choices: { message: { content: string } }[] };
      expect(body.object).toBe('chat.completion');
      expect(body.choices[0]?.message.content).toContain(`document ${i}`);
    }
    const errors = parseLines(await (await client.files.content(done.error_file_id!)).text());
    expect(errors).toHaveLength(100);
    const broken = errors.filter((l) => l.custom_id?.startsWith('broken-'));
    expect(broken).toHaveLength(50);
    for (const l of broken) {
      expect(l.response?.status_code).toBe(502);
      expect(l.response?.body).toMatchObject({ error: { code: 'upstream_rejected' } });
    }
    const rejected = errors.filter((l) => l.response === null);
    expect(rejected).toHaveLength(50);
    expect(rejected.filter((l) => l.error?.code === 'invalid_json')).toHaveLength(20);
    expect(rejected.filter((l) => l.error?.code === 'unknown_model')).toHaveLength(15);
    expect(
      rejected.filter((l) => l.custom_id?.startsWith('no-body-') && l.error?.code === 'validation_failed'),
    ).toHaveLength(15);
    expect(rejected.every((l) => typeof l.error?.line === 'number' && l.error.line > 4_950)).toBe(true);
    expect((await client.files.retrieve(done.output_file_id!)).purpose).toBe('batch_output');
    console.log(
      `5,000-line OpenAI batch: created (validated) in ${(acceptMs / 1000).toFixed(2)} s, ` +
        `completed in ${(runMs / 1000).toFixed(1)} s`,
    );
  }, 200_000);

  it('lines run on the batch lane with the completion window as their deadline', async () => {
    const file = await upload(client, jsonl([request('lane-1', MOCK_MODEL, 'which lane')]));
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      // Switchyard takes any whole number of hours up to 24; OpenAI's types name only 24h.
      completion_window: '2h' as '24h',
    });
    const done = await settled(client, batch.id);
    const res = await fetch(`${t.url}/v1/batches/${batch.id}/results`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const [line] = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { job_id: string });
    const job = (await (
      await fetch(`${t.url}/v1/jobs/${line?.job_id}`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      lane: string;
      deadline_at: string;
    };
    expect(job.lane).toBe('batch');
    expect(Date.parse(job.deadline_at)).toBeLessThan(((done.expires_at ?? 0) + 1) * 1000);
    expect(Date.parse(job.deadline_at)).toBeGreaterThan(Date.now() + 3_600_000);
  });

  it('cancel stops the unfinished jobs: cancelling, then cancelled with partial output', async () => {
    const lines = Array.from({ length: 600 }, (_, i) => request(`slow-${i}`, 'mock-slow', `slow ${i}`));
    const file = await upload(client, jsonl(lines));
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const cancelling = await client.batches.cancel(batch.id);
    expect(['cancelling', 'cancelled']).toContain(cancelling.status);
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));
    const done = await settled(client, batch.id, 60_000);
    expect(done.status).toBe('cancelled');
    expect(done.cancelled_at).toEqual(expect.any(Number));
    type Counts = Record<'succeeded' | 'failed' | 'canceled', number>;
    const counts = (done as unknown as { counts: Counts }).counts;
    expect(counts.canceled).toBeGreaterThan(400);
    expect(counts.succeeded + counts.canceled + counts.failed).toBe(600);
    const errors = parseLines(await (await client.files.content(done.error_file_id!)).text());
    expect(errors.filter((l) => l.error?.code === 'canceled')).toHaveLength(counts.canceled);
    // Cancelling a cancelled batch again is harmless.
    const again = await fetch(`${t.url}/v1/batches/${batch.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(again.status).toBe(200);
  }, 90_000);

  it('a Switchyard batch (JSON array) can be cancelled and reads with OpenAI fields too', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => ({
      custom_id: `sy-${i}`,
      type: 'completion',
      request: { model: 'mock-slow', messages: [{ role: 'user', content: `x ${i}` }] },
    }));
    const res = await fetch(`${t.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(lines),
    });
    const created = (await res.json()) as {
      id: string;
      created_at: unknown;
      input_file_id: unknown;
      status: string;
    };
    expect(res.status).toBe(202);
    expect(typeof created.created_at).toBe('string');
    expect(created.input_file_id).toBeNull();
    const cancelled = await client.batches.cancel(created.id);
    expect(['cancelling', 'cancelled']).toContain(cancelled.status);
    const done = await settled(client, created.id, 60_000);
    expect(done.status).toBe('cancelled');
    expect(done.request_counts?.total).toBe(300);
    const finished = await fetch(`${t.url}/v1/batches/${created.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(finished.status).toBe(200);
    const completed = await fetch(`${t.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          custom_id: 'one',
          type: 'completion',
          request: { model: MOCK_MODEL, messages: [{ role: 'user', content: 'hi' }] },
        },
      ]),
    });
    const one = (await completed.json()) as { id: string };
    await settled(client, one.id);
    const late = await fetch(`${t.url}/v1/batches/${one.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: 'batch_finished', error: { code: 'batch_finished' } });
  }, 90_000);
});

describe('OpenAI-form batches: idempotency and the API document', () => {
  it('the same Idempotency-Key and file answer the same batch, enqueueing nothing new', async () => {
    const file = await upload(
      client,
      jsonl([request('idem-1', MOCK_MODEL, 'once'), request('idem-2', MOCK_MODEL, 'twice')]),
    );
    const body = {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions' as const,
      completion_window: '24h' as const,
    };
    // The openai SDK sends no Idempotency-Key of its own; a pipeline can add one.
    const opts = { headers: { 'Idempotency-Key': `file-batch-${file.id}` } };
    const first = await client.batches.create(body, opts).withResponse();
    const again = await client.batches.create(body, opts).withResponse();
    expect(again.data.id).toBe(first.data.id);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect((await settled(client, first.data.id)).request_counts).toEqual({
      total: 2,
      completed: 2,
      failed: 0,
    });
  });

  it('/docs/json documents the Files routes and batch cancel and list', async () => {
    const doc = (await (await fetch(`${t.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/files',
        '/v1/files/{id}',
        '/v1/files/{id}/content',
        '/v1/batches/{id}/cancel',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/batches'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
  });
});

describe('listing batches', () => {
  it('lists newest first with the after cursor, limit, has_more, first_id and last_id', async () => {
    const tenant = await t.tenant();
    const c = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: tenant.key, maxRetries: 0 });
    const file = await upload(c, jsonl([request('a', MOCK_MODEL, 'list me')]));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const b = await c.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { i: String(i) },
      });
      ids.push(b.id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await c.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const raw = (await (
      await fetch(`${t.url}/v1/batches?limit=2`, { headers: { authorization: `Bearer ${tenant.key}` } })
    ).json()) as Record<string, unknown>;
    expect(raw).toMatchObject({ object: 'list', first_id: ids[4], last_id: ids[3], has_more: true });
    const next = await c.batches.list({ limit: 2, after: ids[3] });
    expect(next.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    const all: string[] = [];
    for await (const b of c.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
    expect((await client.batches.list({ limit: 100 })).data.map((b) => b.id)).not.toContain(ids[0]);
    const tooMany = await fetch(`${t.url}/v1/batches?limit=101`, {
      headers: { authorization: `Bearer ${tenant.key}` },
    });
    expect(tooMany.status).toBe(400);
  });
});

describe('files: caps and tenants', () => {
  it('a file over files.maxBytes or files.maxLines is 413 with a stable code, and nothing is kept', async () => {
    const tenant = await t.tenant();
    const post = async (text: string) => {
      const form = new FormData();
      form.set('purpose', 'batch');
      form.set('file', new Blob([text]), 'big.jsonl');
      const res = await fetch(`${t.url}/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.key}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as { code: string; error: { code: string } } };
    };
    const big = await post(`${'x'.repeat(1023)}\n`.repeat(MAX_BYTES / 1024 + 1));
    expect(big).toMatchObject({
      status: 413,
      body: { code: 'file_too_large', error: { code: 'file_too_large' } },
    });
    const long = await post('{}\n'.repeat(MAX_LINES + 1));
    expect(long).toMatchObject({ status: 413, body: { code: 'file_too_many_lines' } });
    const ok = await post('{}\n'.repeat(MAX_LINES));
    expect(ok.status).toBe(200);
    const sdk = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: tenant.key, maxRetries: 0 });
    expect((await sdk.files.list()).data).toHaveLength(1);
    const redis = new Redis(t.redis.url);
    try {
      expect(await redis.keys(`${t.config.redis.prefix}:file:{${tenant.tenantId}}:*:upload`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const wrongPurpose = new FormData();
    wrongPurpose.set('purpose', 'fine-tune');
    wrongPurpose.set('file', new Blob(['{}\n']), 'x.jsonl');
    const res = await fetch(`${t.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}` },
      body: wrongPurpose,
    });
    expect(res.status).toBe(400);
    expect((await sdk.files.list()).data).toHaveLength(1);
  }, 60_000);

  it('another tenant sees none of a tenant’s files, batches or output files (404)', async () => {
    const owner = await t.tenant();
    const mine = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: owner.key, maxRetries: 0 });
    const theirs = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: (await t.tenant()).key, maxRetries: 0 });
    const file = await upload(mine, jsonl([request('p', MOCK_MODEL, 'private')]));
    const batch = await mine.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await settled(mine, batch.id);
    const notFound = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    };
    await notFound(theirs.files.retrieve(file.id));
    await notFound(theirs.files.content(file.id));
    await notFound(theirs.files.delete(file.id));
    await notFound(theirs.files.content(done.output_file_id!));
    await notFound(theirs.batches.retrieve(batch.id));
    await notFound(theirs.batches.cancel(batch.id));
    await notFound(
      theirs.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    );
    expect((await theirs.files.list()).data).toEqual([]);
    expect((await theirs.batches.list()).data).toEqual([]);
    expect((await mine.files.delete(file.id)).deleted).toBe(true);
    await notFound(mine.files.retrieve(file.id));
  });
});
