import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

interface Usage {
  total: { attempts: number };
}

let mock: MockLlm;
let t: TestStack;
let api: Api;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  mock = await startMockLlm({ latencyMs: { min: 100, max: 400 } });
  t = await startTestStack({
    mock,
    worker: false,
    config: {
      worker: { lockDurationMs: 2_000, concurrency: { interactive: 2, batch: 24 } },
      jobs: { maxAttempts: 5 },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  for (const w of workers) w.terminate('SIGKILL');
  await t?.close();
  await mock?.close();
});

describe('crash test: workers SIGKILLed mid-run', () => {
  it('all jobs complete, and re-runs appear in the ledger as attempts', async () => {
    mock.resetStats();
    const cfg = writeConfigFile(t.config);
    const res = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        api.post<JobRecord>('/v1/jobs', completion(`crash ${i}`, { lane: 'batch' })),
      ),
    );
    const ids = res.map((r) => r.body.id);
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      const w = await startWorkerProcess(cfg);
      workers.push(w);
      const before = mock.stats().calls;
      await until('the worker to be calling upstream', () => mock.stats().calls > before + 20);
      w.terminate('SIGKILL');
      await w.exited;
      kills++;
    }
    const survivor = await startWorkerProcess(cfg);
    workers.push(survivor);
    const jobs = await Promise.all(
      ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body),
    );
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));

    const interrupted = jobs.flatMap((j) => (j.attempt_log ?? []).filter((a) => a.interrupted));
    expect(interrupted.length).toBeGreaterThan(0);
    expect(kills).toBe(3);
    // Every attempt is in the ledger: each upstream call, plus interrupted attempts a worker
    // may have died on before its call left (the ledger never has fewer).
    const ledgerAttempts = (await api.get<Usage>('/v1/usage?group_by=outcome')).body.total.attempts;
    expect(ledgerAttempts).toBe(jobs.reduce((a, j) => a + j.attempts, 0));
    expect(ledgerAttempts).toBeGreaterThanOrEqual(mock.stats().calls);
    expect(ledgerAttempts).toBeLessThanOrEqual(mock.stats().calls + interrupted.length);
    survivor.terminate('SIGTERM');
    expect(await survivor.exited).toBe(0);
  });
});
