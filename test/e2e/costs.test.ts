import type { JobRecord, Problem } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

interface UsageReport {
  rows: {
    key: string;
    attempts: number;
    retries: number;
    cost: { nano_usd: number };
    retry_cost: { nano_usd: number };
  }[];
  total: { attempts: number; retries: number; cost: { nano_usd: number }; retry_cost: { nano_usd: number } };
  retry_share: number;
}

let broken: MockLlm;
let t: TestStack;
let api: Api;
let tenantId: string;

beforeAll(async () => {
  broken = await startMockLlm({ faults: { error5xx: 1 } });
  t = await startTestStack({
    config: {
      jobs: { maxAttempts: 2, backoffMs: 10 },
      models: { broken: { baseUrl: `${broken.url}/v1`, upstreamModel: 'mock-small', price: MOCK_PRICE } },
    },
  });
  ({ api, tenantId } = await t.tenant());
});
afterAll(async () => {
  await t?.close();
  await broken?.close();
});

describe('fallbacks, the ledger and budgets', () => {
  it('when a model gives up, the next fallback answers and the result names it', async () => {
    const job = (
      await api.post<JobRecord>(
        '/v1/jobs',
        {
          type: 'completion',
          lane: 'interactive',
          request: { model: 'broken', messages: [{ role: 'user', content: 'hi' }] },
          fallbacks: ['mock'],
        },
        { prefer: 'wait=10' },
      )
    ).body;
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ type: 'completion', model: 'mock' });
    expect(job.attempts).toBe(3);
    const full = (await api.get<JobRecord>(`/v1/jobs/${job.id}`)).body;
    expect(full.attempt_log?.map((a) => [a.model, a.outcome])).toEqual([
      ['broken', 'upstream_fault'],
      ['broken', 'upstream_fault'],
      ['mock', 'ok'],
    ]);
    expect(full.cost.nano_usd).toBe(full.attempt_log?.reduce((a, e) => a + e.cost.nano_usd, 0));
  });

  it('usage groups costs by model and outcome and shows the share spent on retries', async () => {
    const byModel = (await api.get<UsageReport>('/v1/usage?group_by=model')).body;
    expect(byModel.rows.map((r) => r.key).sort()).toEqual(['broken', 'mock']);
    const byOutcome = (await api.get<UsageReport>('/v1/usage?group_by=outcome')).body;
    expect(byOutcome.total.attempts).toBe(3);
    expect(byOutcome.total.retries).toBe(2);
    // The only paid attempt (the fallback's answer) was a retry.
    expect(byOutcome.retry_share).toBe(1);
    const bad = await api.get<Problem>('/v1/usage?group_by=colour');
    expect(bad.status).toBe(400);
    expect((await api.get<Problem>('/v1/usage?from=2026-02-30&to=2026-03-01')).status).toBe(400);
    expect((await api.get<Problem>('/v1/usage?from=2026-03-02&to=2026-03-01')).status).toBe(400);
  });

  it('over its daily budget a tenant gets 429 budget_exceeded; a replay still returns its job', async () => {
    const first = await api.post<JobRecord>('/v1/jobs', completion('before the budget'), {
      prefer: 'wait=10',
      'idempotency-key': 'b-1',
    });
    expect(first.body.status).toBe('succeeded');
    // Spend so far is a few micro-dollars: a budget of 1 nano-dollar is already spent.
    const res = await fetch(`${t.url}/v1/admin/tenants/${tenantId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ daily_budget_usd: 0.000000001 }),
    });
    expect(res.status).toBe(200);
    const refused = await api.post<Problem>('/v1/jobs', completion('after the budget'));
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('budget_exceeded');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const replay = await api.post<JobRecord>('/v1/jobs', completion('before the budget'), {
      'idempotency-key': 'b-1',
    });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    await fetch(`${t.url}/v1/admin/tenants/${tenantId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ daily_budget_usd: null }),
    });
    expect((await api.post('/v1/jobs', completion('budget lifted'))).status).toBe(202);
  });
  it("a job's cost and attempt are in the ledger as soon as the job is answered finished", async () => {
    // A first attempt's ledger write is not awaited by the worker; it is sent on the connection
    // BullMQ finishes the job on, so it must be visible to whoever hears of the completion.
    const { api: own } = await t.tenant();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        own.post<JobRecord>('/v1/jobs', completion(`ledger order ${i}`), { prefer: 'wait=20' }),
      ),
    );
    const jobs = await Promise.all(
      answers.map(async (a) => {
        expect(a.body.status).toBe('succeeded');
        return (await own.get<JobRecord>(`/v1/jobs/${a.body.id}`)).body;
      }),
    );
    for (const job of jobs) {
      expect(job.attempt_log?.map((e) => [e.attempt, e.outcome])).toEqual([[1, 'ok']]);
      expect(job.cost.nano_usd).toBeGreaterThan(0);
      expect(job.attempt_log?.[0]?.cost.nano_usd).toBe(job.cost.nano_usd);
    }
    const usage = (await own.get<UsageReport>('/v1/usage')).body;
    expect(usage.total.attempts).toBe(60);
    expect(usage.total.cost.nano_usd).toBe(jobs.reduce((a, j) => a + j.cost.nano_usd, 0));
  });
});
