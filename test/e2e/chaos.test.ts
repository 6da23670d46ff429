import { ERROR_CODES, type JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

interface Usage {
  total: {
    attempts: number;
    retries: number;
    input_tokens: number;
    output_tokens: number;
    cost: { nano_usd: number };
  };
}

const JOBS = 2_000;
const MAX_ATTEMPTS = 4;

let mock: MockLlm;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  mock = await startMockLlm({ answerWords: 12 });
  t = await startTestStack({
    mock,
    config: {
      jobs: { maxAttempts: MAX_ATTEMPTS, backoffMs: 20, retryBudget: { ratio: 2, floor: 100 } },
      worker: { concurrency: { interactive: 4, batch: 96 } },
      // A generous timeout, so a normal answer never loses the race against it (the upstream would
      // bill an answer the broker gave up on, whose tokens no ledger can know).
      models: {
        mock: { baseUrl: `${mock.url}/v1`, upstreamModel: 'mock-small', price: MOCK_PRICE, timeoutMs: 2_000 },
      },
      log: { level: 'warn' },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

async function submitAll(n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 200) {
    const res = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, (_, j) =>
        api.post<JobRecord>(
          '/v1/jobs',
          completion(`chaos job ${i + j} asks a question`, { lane: 'batch', ...extra }),
        ),
      ),
    );
    ids.push(...res.map((r) => r.body.id));
  }
  return ids;
}

async function finishAll(ids: string[]): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    out.push(
      ...(await Promise.all(
        ids
          .slice(i, i + 200)
          .map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=120' })).body),
      )),
    );
  }
  return out;
}

describe('chaos: 2,000 completions against a faulty upstream', () => {
  it('every job ends clearly, and the ledger matches what the upstream billed, exactly', async () => {
    mock.resetStats();
    mock.setFaults({
      error5xx: 0.2,
      rateLimit: 0.1,
      timeout: 0.05,
      streamCut: 0.05,
      retryAfterSeconds: 1,
      seed: 42,
    });
    const ids = await submitAll(JOBS, { timeout_ms: 60_000 });
    const jobs = await finishAll(ids);

    // Every job ends succeeded or failed with a catalog code; none is lost or stuck.
    expect(jobs.filter((j) => j.status !== 'succeeded' && j.status !== 'failed')).toEqual([]);
    for (const j of jobs.filter((x) => x.status === 'failed')) expect(ERROR_CODES).toContain(j.error?.code);
    // No job exceeds its attempt limit; no attempt started after its deadline.
    expect(Math.max(...jobs.map((j) => j.attempts))).toBeLessThanOrEqual(MAX_ATTEMPTS);
    for (const j of jobs) {
      for (const a of j.attempt_log ?? [])
        expect(Date.parse(a.started_at)).toBeLessThan(Date.parse(j.deadline_at));
      expect(j.attempt_log).toHaveLength(j.attempts);
    }

    // Upstream calls == ledger attempts; tokens and USD == what the mock billed.
    const stats = mock.stats();
    const usage = (await api.get<Usage>('/v1/usage?group_by=outcome')).body;
    expect(usage.total.attempts).toBe(stats.calls);
    expect(jobs.reduce((a, j) => a + j.attempts, 0)).toBe(stats.calls);
    expect(usage.total.input_tokens).toBe(stats.promptTokens);
    expect(usage.total.output_tokens).toBe(stats.completionTokens);
    const billedNanos =
      stats.promptTokens * MOCK_PRICE.inputPerMTok * 1000 +
      stats.completionTokens * MOCK_PRICE.outputPerMTok * 1000;
    expect(usage.total.cost.nano_usd).toBe(Math.round(billedNanos));
    expect(jobs.reduce((a, j) => a + j.cost.nano_usd, 0)).toBe(usage.total.cost.nano_usd);
    // The faults really happened and were retried.
    expect(usage.total.retries).toBeGreaterThan(JOBS * 0.3);
    expect(jobs.filter((j) => j.status === 'succeeded').length).toBeGreaterThan(JOBS * 0.95);
  });

  it('with the upstream at 100% 5xx, the retry budget caps upstream calls near jobs × (1 + ratio)', async () => {
    const budget = { ratio: 0.2, windowSeconds: 30, floor: 10 };
    // Its own stack (own key prefix, so its own retry budget) on the same mock upstream.
    const b = await startTestStack({
      mock,
      config: { jobs: { maxAttempts: 3, backoffMs: 20, retryBudget: budget }, log: { level: 'warn' } },
    });
    try {
      api = (await b.tenant()).api;
      mock.resetStats();
      mock.setFaults({ error5xx: 1 });
      const n = 300;
      const jobs = await finishAll(await submitAll(n));
      const calls = mock.stats().calls;
      expect(jobs.every((j) => j.status === 'failed')).toBe(true);
      expect(calls).toBeGreaterThanOrEqual(n);
      expect(calls).toBeLessThanOrEqual(Math.ceil(n * (1 + budget.ratio)) + budget.floor);
      const codes = new Set(jobs.map((j) => j.error?.code));
      expect(codes).toContain('retry_budget_exhausted');
    } finally {
      mock.setFaults({});
      await b.close();
    }
  });
});
