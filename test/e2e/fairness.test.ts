import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

interface Batch {
  id: string;
  status: string;
  counts: { total: number; accepted: number; succeeded: number; failed: number; queued_or_running: number };
}

let redis: RedisHandle;
let mock: MockLlm;
let t: TestStack;

beforeAll(async () => {
  // Its own Redis: 50,000 jobs are left behind when the test ends.
  redis = await startRedis({ dedicated: true });
  mock = await startMockLlm({ latencyMs: 2 });
  t = await startTestStack({
    redis,
    mock,
    config: { worker: { concurrency: { interactive: 2, batch: 16 } }, log: { level: 'warn' } },
  });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
  await redis?.stop();
});

const lines = (n: number, who: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${who}-${i}`,
      type: 'completion',
      request: { model: 'mock', messages: [{ role: 'user', content: `${who} ${i}` }] },
    }),
  ).join('\n');

describe('fair share inside the batch lane', () => {
  it("tenant B's 500 jobs all finish while most of tenant A's 50,000-job backlog is still queued", async () => {
    const a = await t.tenant();
    const b = await t.tenant();
    const big = await a.api.post<Batch>('/v1/batches', lines(50_000, 'a'), {
      'content-type': 'application/x-ndjson',
    });
    expect(big.status).toBe(202);
    expect(big.body.counts.accepted).toBe(50_000);
    // A's backlog is being worked on when B arrives.
    await until(
      'A to get going',
      async () => (await a.api.get<Batch>(`/v1/batches/${big.body.id}`)).body.counts.succeeded > 100,
      30_000,
    );
    const small = await b.api.post<Batch>('/v1/batches', lines(500, 'b'), {
      'content-type': 'application/x-ndjson',
    });
    expect(small.body.counts.accepted).toBe(500);
    const doneB = await until(
      "B's batch to finish",
      async () => {
        const r = (await b.api.get<Batch>(`/v1/batches/${small.body.id}`)).body;
        return r.status === 'completed' ? r : undefined;
      },
      60_000,
      100,
    );
    expect(doneB.counts.succeeded).toBe(500);
    const aNow = (await a.api.get<Batch>(`/v1/batches/${big.body.id}`)).body;
    // Ordering, not time: when B is done, A has finished only a small part of its backlog.
    expect(aNow.counts.succeeded + aNow.counts.failed).toBeLessThan(10_000);
    expect(aNow.counts.queued_or_running).toBeGreaterThan(40_000);
  });
});
