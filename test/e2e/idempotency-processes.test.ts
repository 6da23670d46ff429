import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startApiProcess, writeConfigFile, type ApiProcess } from './support/worker-process.ts';

// An Idempotency-Key holds across API replicas: the claim is one atomic Redis command and the
// job id derives from tenant and key, so no process-local state decides anything.

let mock: MockLlm;
let t: TestStack;
let apis: ApiProcess[] = [];

beforeAll(async () => {
  // Slow enough that every duplicate arrives while the job is queued or running.
  mock = await startMockLlm({ latencyMs: 500 });
  t = await startTestStack({ mock });
  const cfg = writeConfigFile({ ...t.config, api: { ...t.config.api, port: 0 } });
  apis = await Promise.all([startApiProcess(cfg), startApiProcess(cfg)]);
}, 60_000);
afterAll(async () => {
  for (const p of apis) p.terminate();
  await Promise.all(apis.map((p) => p.exited));
  await t?.close();
  await mock?.close();
});

describe('Idempotency-Key across API processes', () => {
  it('200 concurrent submissions with one key, split across two API processes: one job, one upstream call', async () => {
    const { key } = await t.tenant();
    const clients = apis.map((p) => new Api(p.url, key));
    mock.resetStats();
    const body = completion('exactly once, whichever replica answers');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        clients[i % 2]!.post<JobRecord>('/v1/jobs', body, { 'idempotency-key': 'replicas-1' }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 202 && s !== 200)).toEqual([]);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(199);
    // Both processes answered, each with the same job.
    expect(new Set(results.slice(0, 2).map((r) => r.body.id)).size).toBe(1);

    const [id] = [...ids];
    const done = await clients[0]!.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' });
    expect(done.body.status).toBe('succeeded');
    expect(done.body.attempts).toBe(1);
    expect(mock.stats().calls).toBe(1);
    const redis = new Redis(t.redis.url);
    try {
      const jobs = await Promise.all(
        ['interactive', 'batch'].map(
          async (lane) => (await redis.keys(`${t.config.redis.prefix}:{${lane}}:j*`)).length,
        ),
      );
      expect(jobs.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      redis.disconnect();
    }
  }, 120_000);
});
