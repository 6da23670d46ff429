import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

interface Batch {
  id: string;
  status: string;
  counts: { total: number; accepted: number; succeeded: number; failed: number; queued_or_running: number };
}

const SMALL_TENANTS = 1_000;
const SMALL_JOBS = 20;
const BIG_JOBS = 20_000;

let redis: RedisHandle;
let mock: MockLlm;
let t: TestStack;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  // Its own Redis: most of the big backlog is left behind when the test ends.
  redis = await startRedis({ dedicated: true });
  mock = await startMockLlm({ latencyMs: 2 });
  t = await startTestStack({
    redis,
    mock,
    worker: false,
    config: { worker: { concurrency: { interactive: 2, batch: 16 } }, log: { level: 'warn' } },
  });
});
afterAll(async () => {
  worker?.terminate('SIGKILL');
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

const ndjson = { 'content-type': 'application/x-ndjson' };

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

describe('fair share with many tenants', () => {
  it('1,000 tenants with 20 batch jobs each all finish before a 20,000-job tenant has done 10% of its backlog', async () => {
    const big = await t.tenant();
    const bigBatch = await big.api.post<Batch>('/v1/batches', lines(BIG_JOBS, 'big'), ndjson);
    expect(bigBatch.body.counts.accepted).toBe(BIG_JOBS);
    const small = await inParallel(
      Array.from({ length: SMALL_TENANTS }, (_, i) => i),
      25,
      async (i): Promise<{ api: Api; id: string }> => {
        const { api } = await t.tenant();
        const res = await api.post<Batch>('/v1/batches', lines(SMALL_JOBS, `small${i}`), ndjson);
        expect(res.body.counts.accepted).toBe(SMALL_JOBS);
        return { api, id: res.body.id };
      },
    );

    // Every backlog is in place; now a worker starts on all of them at once.
    const started = Date.now();
    worker = await startWorkerProcess(writeConfigFile(t.config));
    let pending = small;
    while (pending.length) {
      const done = await inParallel(pending, 50, async (s) => {
        const b = (await s.api.get<Batch>(`/v1/batches/${s.id}`)).body;
        return b.status === 'completed' ? b : undefined;
      });
      for (const b of done) if (b) expect(b.counts.succeeded).toBe(SMALL_JOBS);
      pending = pending.filter((_, i) => !done[i]);
      if (Date.now() - started > 240_000)
        throw new Error(`${pending.length} small batches not done in 4 min`);
      if (pending.length) await new Promise((r) => setTimeout(r, 250));
    }
    const smallDoneMs = Date.now() - started;
    // Read after the last small batch was seen done (so never before it): an upper bound.
    const bigNow = (await big.api.get<Batch>(`/v1/batches/${bigBatch.body.id}`)).body.counts;
    worker.terminate('SIGKILL');
    const bigDone = bigNow.succeeded + bigNow.failed;
    console.log(
      `many tenants: ${SMALL_TENANTS * SMALL_JOBS} small jobs done in ${smallDoneMs} ms; the big tenant had ${bigDone} of ${BIG_JOBS} done`,
    );
    expect(bigDone).toBeGreaterThan(0); // it was served too, not starved
    expect(bigDone).toBeLessThan(BIG_JOBS * 0.1);
  }, 420_000);
});
