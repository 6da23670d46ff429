import type { JobRecord, Problem } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let redis: RedisHandle;
let t: TestStack;
let api: Api;

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
    for (const send of [
      () => api.post<Problem>('/v1/jobs', completion('during')),
      () => api.get<Problem>(`/v1/jobs/${before.body.id}`),
      () => api.get<Problem>('/readyz'),
    ]) {
      const started = Date.now();
      const res = await send();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('redis_unavailable');
      expect(res.headers['retry-after']).toBe('1');
      expect(String(res.headers['content-type'])).toContain('application/problem+json');
    }
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
