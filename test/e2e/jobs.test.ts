import type { JobRecord, Problem } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

let t: TestStack;
let site: MockSite;
let api: Api;

beforeAll(async () => {
  t = await startTestStack();
  site = await startMockSite();
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await site?.close();
  await t?.close();
});

const expectProblem = (
  res: { status: number; headers: Record<string, unknown>; body: unknown },
  status: number,
  code: string,
) => {
  expect(res.status).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, type: `https://switchyard.dev/errors/${code}` });
};

describe('submitting and reading jobs over HTTP', () => {
  it('a completion job runs to succeeded with result, usage and cost (Prefer: wait)', async () => {
    const res = await api.post<JobRecord>('/v1/jobs', completion('one two three'), { prefer: 'wait=10' });
    expect(res.status).toBe(200);
    expect(res.headers['preference-applied']).toBe('wait=10');
    const job = res.body;
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(1);
    expect(job.result).toMatchObject({ type: 'completion', model: 'mock', upstream_model: 'mock-small' });
    if (job.result?.type !== 'completion') throw new Error('not a completion');
    // The mock bills words + 3 per message: 3 words + 3 = 6 prompt tokens.
    expect(job.result.usage.input_tokens).toBe(6);
    expect(job.result.usage.output_tokens).toBeGreaterThan(0);
    const expected =
      job.result.usage.input_tokens * MOCK_PRICE.inputPerMTok * 1000 +
      job.result.usage.output_tokens * MOCK_PRICE.outputPerMTok * 1000;
    expect(job.cost.nano_usd).toBe(Math.round(expected));
    expect(job.cost.usd).toBeCloseTo(expected / 1e9, 12);
  });

  it('a scrape job with the v1 format: text runs to succeeded with the page body', async () => {
    const res = await api.post<JobRecord>(
      '/v1/jobs',
      { type: 'scrape', lane: 'interactive', request: { url: `${site.url}/page/7`, format: 'text' } },
      { prefer: 'wait=10' },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result).toMatchObject({ type: 'scrape', status: 200, url: `${site.url}/page/7` });
    if (res.body.result?.type !== 'scrape') throw new Error('not a scrape');
    expect(res.body.result.body).toContain('<title>');
    expect(res.body.result.bytes).toBeGreaterThan(0);
  });

  it('a scrape larger than the byte cap fails with response_too_large', async () => {
    const res = await api.post<JobRecord>(
      '/v1/jobs',
      {
        type: 'scrape',
        lane: 'interactive',
        request: { url: `${site.url}/big?bytes=${t.config.scrape.maxBytes + 1}` },
      },
      { prefer: 'wait=10' },
    );
    expect(res.body).toMatchObject({ status: 'failed', error: { code: 'response_too_large' }, attempts: 1 });
  });

  it('without Prefer: wait the answer is 202 with Location, and GET shows the job', async () => {
    const res = await api.post<JobRecord>('/v1/jobs', completion('async please', { lane: 'batch' }));
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/jobs/${res.body.id}`);
    expect(['queued', 'running', 'succeeded']).toContain(res.body.status);
    const done = await api.get<JobRecord>(`/v1/jobs/${res.body.id}`, { prefer: 'wait=10' });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('succeeded');
    expect(done.body.lane).toBe('batch');
  });

  it('Prefer: wait that runs out answers 202 with the job still running', async () => {
    t.mock.setFaults({ timeout: 1 }); // the upstream never answers
    try {
      const slow = await api.post<JobRecord>('/v1/jobs', completion('hang'), { prefer: 'wait=1' });
      expect(slow.status).toBe(202);
      expect(slow.headers.location).toBe(`/v1/jobs/${slow.body.id}`);
      expect(slow.body.status).toMatch(/queued|running/);
      await api.delete(`/v1/jobs/${slow.body.id}`);
    } finally {
      t.mock.setFaults({});
    }
  });

  it('DELETE cancels a running job and a finished job cannot be canceled', async () => {
    t.mock.setFaults({ timeout: 1 });
    try {
      const res = await api.post<JobRecord>('/v1/jobs', completion('cancel me'));
      await new Promise((r) => setTimeout(r, 300));
      const del = await api.delete<JobRecord>(`/v1/jobs/${res.body.id}`);
      expect(del.status).toBe(200);
      expect(del.body.status).toBe('canceled');
      const after = await api.get<JobRecord>(`/v1/jobs/${res.body.id}`, { prefer: 'wait=5' });
      expect(after.body).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
      expect(after.body.finished_at).not.toBeNull();
      expectProblem(await api.delete(`/v1/jobs/${res.body.id}`), 409, 'job_finished');
    } finally {
      t.mock.setFaults({});
    }
  });
});

describe('auth and isolation', () => {
  it('a tenant reading another tenant’s job gets 404', async () => {
    const other = (await t.tenant()).api;
    const res = await api.post<JobRecord>('/v1/jobs', completion('mine'), { prefer: 'wait=10' });
    expectProblem(await other.get(`/v1/jobs/${res.body.id}`), 404, 'not_found');
    expectProblem(await other.delete(`/v1/jobs/${res.body.id}`), 404, 'not_found');
    expect((await api.get(`/v1/jobs/${res.body.id}`)).status).toBe(200);
  });

  it('a missing or invalid key is 401; a key without the scope is 403', async () => {
    expectProblem(await new Api(t.url).post('/v1/jobs', completion()), 401, 'unauthorized');
    expectProblem(
      await new Api(t.url, 'sy_not_a_real_key').get('/v1/jobs/jb_0000000000000000000000'),
      401,
      'unauthorized',
    );
    expectProblem(
      await api.post('/v1/jobs', completion(), { authorization: 'Basic Zm9vOmJhcg==' }),
      401,
      'unauthorized',
    );
    const readOnly = (await t.tenant(['jobs:read'])).api;
    expectProblem(await readOnly.post('/v1/jobs', completion()), 403, 'forbidden');
    expectProblem(await api.post('/v1/admin/tenants', { name: 'x' }), 403, 'forbidden');
    expectProblem(await t.admin.post('/v1/jobs', completion()), 403, 'forbidden');
  });

  it('a revoked key stops working on the next request', async () => {
    const tenantId = (await t.admin.post<{ id: string }>('/v1/admin/tenants', { name: 'revoke' })).body.id;
    const created = await t.admin.post<{ id: string; key: string }>(`/v1/admin/tenants/${tenantId}/keys`, {});
    const client = new Api(t.url, created.body.key);
    expect((await client.get('/v1/jobs/jb_0000000000000000000000')).status).toBe(404);
    expect((await t.admin.delete(`/v1/admin/tenants/${tenantId}/keys/${created.body.id}`)).status).toBe(204);
    expectProblem(await client.get('/v1/jobs/jb_0000000000000000000000'), 401, 'unauthorized');
  });
});

describe('bad input gets problem+json', () => {
  it('validation errors are 400 and name the field paths', async () => {
    const res = await api.post<Problem>('/v1/jobs', {
      type: 'completion',
      priority: 99,
      request: { model: 'mock', messages: [{ role: 'robot', content: 'x' }], temperature: 'hot' },
      surprise: true,
    });
    expectProblem(res, 400, 'validation_failed');
    const paths = res.body.errors?.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(['priority', 'request.messages[0].role', 'request.temperature', 'surprise']),
    );
  });

  it('an unknown model is 400 unknown_model naming the field', async () => {
    const res = await api.post<Problem>('/v1/jobs', { ...completion(), fallbacks: ['mock', 'gpt-nope'] });
    expectProblem(res, 400, 'unknown_model');
    expect(res.body.errors).toEqual([{ path: 'fallbacks[1]', message: 'unknown model "gpt-nope"' }]);
  });

  it('malformed JSON, the wrong media type and oversized bodies are refused with their codes', async () => {
    expectProblem(
      await api.post('/v1/jobs', '{"type":', { 'content-type': 'application/json' }),
      400,
      'invalid_json',
    );
    expectProblem(
      await api.post('/v1/jobs', 'hello', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    const huge = completion('x '.repeat(t.config.api.bodyLimitBytes));
    expectProblem(await api.post('/v1/jobs', huge), 413, 'payload_too_large');
  });

  it('a malformed Idempotency-Key is 400 invalid_header', async () => {
    expectProblem(
      await api.post('/v1/jobs', completion(), { 'idempotency-key': 'é'.repeat(3) }),
      400,
      'invalid_header',
    );
    expectProblem(
      await api.post('/v1/jobs', completion(), { 'idempotency-key': 'k'.repeat(256) }),
      400,
      'invalid_header',
    );
  });

  it('an unknown route is a 404 problem', async () => {
    expectProblem(await api.get('/v1/nothing-here'), 404, 'route_not_found');
  });
});

describe('ops endpoints', () => {
  it('healthz, readyz and the OpenAPI document answer', async () => {
    expect((await new Api(t.url).get('/healthz')).status).toBe(200);
    expect((await new Api(t.url).get('/readyz')).body).toEqual({ status: 'ready' });
    const doc = await new Api(t.url).get<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>('/docs/json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}']));
    expect(Object.keys(doc.body.components.schemas)).toEqual(
      expect.arrayContaining(['JobSpec', 'Job', 'Problem']),
    );
  });
});
