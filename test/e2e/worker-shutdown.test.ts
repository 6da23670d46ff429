import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

let mock: MockLlm;
let t: TestStack;
let api: Api;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  mock = await startMockLlm({ latencyMs: 1_500 });
  // The API runs here; workers run as their own processes so they can be signalled.
  t = await startTestStack({ mock, worker: false });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  for (const w of workers) w.terminate('SIGKILL');
  await t?.close();
  await mock?.close();
});

async function submitBatch(n: number, label: string): Promise<string[]> {
  const res = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      api.post<JobRecord>('/v1/jobs', completion(`${label} ${i}`, { lane: 'batch' })),
    ),
  );
  return res.map((r) => r.body.id);
}

async function waitForCalls(n: number): Promise<void> {
  for (let i = 0; i < 200 && mock.stats().calls < n; i++) await new Promise((r) => setTimeout(r, 25));
}

async function allFinished(ids: string[]): Promise<JobRecord[]> {
  return Promise.all(
    ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' })).body),
  );
}

describe('SIGTERM to a worker with jobs in flight', () => {
  it('in-flight jobs finish within the grace period, the rest run on another worker, none lost or doubled', async () => {
    mock.resetStats();
    // Every worker of a deployment shares one lock duration (BullMQ's stalled check is per queue).
    const cfg = writeConfigFile({
      ...t.config,
      worker: {
        ...t.config.worker,
        concurrency: { interactive: 2, batch: 6 },
        shutdownGraceMs: 10_000,
        lockDurationMs: 1_500,
      },
    });
    const a = await startWorkerProcess(cfg, ['--lanes', 'batch']);
    workers.push(a);
    const ids = await submitBatch(20, 'graceful');
    await waitForCalls(6); // worker A holds 6 jobs in flight at the mock
    a.terminate('SIGTERM');
    const b = await startWorkerProcess(cfg);
    workers.push(b);
    expect(await a.exited).toBe(0);
    const jobs = await allFinished(ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    expect(jobs.every((j) => j.attempts === 1)).toBe(true);
    expect(mock.stats().calls).toBe(20);
    expect(mock.stats().billedCalls).toBe(20);
    b.terminate('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('jobs still running when the grace period ends are re-run by another worker', async () => {
    mock.resetStats();
    const cfg = writeConfigFile({
      ...t.config,
      worker: {
        ...t.config.worker,
        concurrency: { interactive: 2, batch: 4 },
        shutdownGraceMs: 200,
        lockDurationMs: 1_500,
      },
    });
    const a = await startWorkerProcess(cfg, ['--lanes', 'batch']);
    workers.push(a);
    const ids = await submitBatch(8, 'forced');
    await waitForCalls(4);
    a.terminate('SIGTERM');
    expect(await a.exited).toBe(0);
    const b = await startWorkerProcess(cfg);
    workers.push(b);
    const jobs = await allFinished(ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    // The 4 interrupted jobs ran twice: both runs count as attempts.
    expect(jobs.filter((j) => j.attempts === 2)).toHaveLength(4);
    expect(mock.stats().calls).toBe(12);
    b.terminate('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
