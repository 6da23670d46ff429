import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let mock: MockLlm;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  // One interactive slot and a slow upstream: a second job waits in the queue.
  mock = await startMockLlm({ latencyMs: 800 });
  t = await startTestStack({ mock, config: { worker: { concurrency: { interactive: 1, batch: 1 } } } });
  ({ api } = await t.tenant());
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

describe('a job canceled while queued', () => {
  it('ends canceled with no attempt counted and nothing spent', async () => {
    const first = await api.post<JobRecord>('/v1/jobs', completion('holds the only slot'));
    const queued = await api.post<JobRecord>('/v1/jobs', completion('canceled in the queue'));
    const del = await api.delete<JobRecord>(`/v1/jobs/${queued.body.id}`);
    expect(del.status).toBe(200);
    const after = await api.get<JobRecord & { attempt_log: unknown[] }>(`/v1/jobs/${queued.body.id}`, {
      prefer: 'wait=10',
    });
    expect(after.body).toMatchObject({ status: 'canceled', attempts: 0, cost: { nano_usd: 0 } });
    expect(after.body.finished_at).not.toBeNull();
    expect(after.body.attempt_log).toEqual([]);
    const done = await api.get<JobRecord>(`/v1/jobs/${first.body.id}`, { prefer: 'wait=10' });
    expect(done.body).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
