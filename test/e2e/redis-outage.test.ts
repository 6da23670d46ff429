import type { JobRecord, Problem } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api, type ApiResponse } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let redis: RedisHandle;
let t: TestStack;
let api: Api;
const line = { custom_id: 'l1', ...completion('batch during') };

beforeAll(async () => {
  redis = await startRedis({ dedicated: true, persist: true });
  t = await startTestStack({ redis });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

describe('when Redis goes away', () => {
  it('the API answers 503 problem+json with Retry-After at once, and recovers without a restart', async () => {
    const before = await api.post<JobRecord>('/v1/jobs', completion('before'), { prefer: 'wait=10' });
    expect(before.body.status).toBe('succeeded');

    await redis.kill();
    const id = before.body.id;
    const ndjson = { 'content-type': 'application/x-ndjson' };
    // Every route that needs Redis, tenant and admin ones alike (the guard is one hook for all).
    const sends: [string, () => Promise<ApiResponse<Problem>>][] = [
      ['POST /v1/jobs', () => api.post('/v1/jobs', completion('during'))],
      ['GET /v1/jobs/{id}', () => api.get(`/v1/jobs/${id}`)],
      ['DELETE /v1/jobs/{id}', () => api.delete(`/v1/jobs/${id}`)],
      ['GET /v1/jobs/{id}/events', () => api.get(`/v1/jobs/${id}/events`)],
      ['POST /v1/batches', () => api.post('/v1/batches', `${JSON.stringify(line)}\n`, ndjson)],
      ['GET /v1/batches/{id}', () => api.get('/v1/batches/b_x')],
      ['GET /v1/batches/{id}/results', () => api.get('/v1/batches/b_x/results')],
      ['GET /v1/usage', () => api.get('/v1/usage')],
      ['GET /v1/models', () => api.get('/v1/models')],
      ['POST /v1/admin/tenants', () => t.admin.post('/v1/admin/tenants', { name: 'during' })],
      ['GET /v1/admin/proxies', () => t.admin.get('/v1/admin/proxies')],
      ['GET /readyz', () => api.get('/readyz')],
    ];
    for (const [route, send] of sends) {
      const started = Date.now();
      const res = await send();
      expect(Date.now() - started, route).toBeLessThan(3_000);
      expect(res.status, route).toBe(503);
      expect(res.body.code, route).toBe('redis_unavailable');
      expect(res.headers['retry-after'], route).toBe('1');
      expect(String(res.headers['content-type']), route).toContain('application/problem+json');
    }
    // The OpenAI-compatible route answers in OpenAI's error shape, with the same status and code.
    const chat = await api.post<{ error: { code: string; type: string } }>('/v1/chat/completions', {
      model: 'mock',
      messages: [{ role: 'user', content: 'during' }],
    });
    expect(chat.status).toBe(503);
    expect(chat.body.error).toMatchObject({ code: 'redis_unavailable', type: 'server_error' });
    expect(chat.headers['retry-after']).toBe('1');
    expect((await api.get('/healthz')).status).toBe(200);

    await redis.restart();
    let after: { status: number; body: JobRecord } | undefined;
    for (let i = 0; i < 50; i++) {
      after = await api.post<JobRecord>('/v1/jobs', completion('after'), { prefer: 'wait=10' });
      if (after.status !== 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after?.status).toBe(200);
    expect(after?.body.status).toBe('succeeded');
    // The job accepted before the outage is still there.
    expect((await api.get<JobRecord>(`/v1/jobs/${before.body.id}`)).body.status).toBe('succeeded');
  });

  it('a stack started while Redis is still coming up answers its very first request', async () => {
    const late = await startRedis({ dedicated: true });
    try {
      await late.kill();
      const starting = startTestStack({ redis: late, mock: t.mock });
      await new Promise((r) => setTimeout(r, 300));
      await late.restart();
      const s = await starting;
      try {
        const first = await s.admin.post<{ id: string }>('/v1/admin/tenants', { name: 'first' });
        expect(first.status).toBe(201);
        expect(first.body.id).toMatch(/^t_/);
      } finally {
        await s.close();
      }
    } finally {
      await late.stop();
    }
  });
});
