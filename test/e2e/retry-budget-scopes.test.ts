import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

// One upstream's trouble stays its own (ADR 0021): retry budgets are per model and per scraped
// host, and each tenant retries on its own share. A tenant hammering a model that always fails
// and a site that rate-limits it spends those budgets; another tenant's completions to a healthy
// (now and then failing) model, submitted at the same time on the same lane, keep their retries.

const RATIO = 0.5;
const FLOOR = 3;
// Enough attempts that a quiet job failing on every one of them (0.2^8 each) does not happen: only
// a budget can stop its retries, which is what the test is about. With 4, about one run in twenty
// had a quiet job fail four times in a row.
const MAX_ATTEMPTS = 8;
const NOISY_JOBS = 60;
const QUIET_JOBS = 30;

let failing: MockLlm;
let healthy: MockLlm;
let site: MockSite;
let t: TestStack;
let noisy: Api;
let quiet: Api;

beforeAll(async () => {
  failing = await startMockLlm({ faults: { error5xx: 1 } });
  healthy = await startMockLlm({ faults: { error5xx: 0.2, seed: 7 } });
  // Two requests a second per source IP; every scrape here leaves from the same one.
  site = await startMockSite({ host: '127.0.0.71', rateLimit: { perIpPerSecond: 2, retryAfterSeconds: 1 } });
  const model = (mock: MockLlm) => ({
    baseUrl: `${mock.url}/v1`,
    upstreamModel: 'mock-small',
    price: MOCK_PRICE,
    timeoutMs: 5_000,
  });
  t = await startTestStack({
    mock: healthy,
    config: {
      jobs: {
        maxAttempts: MAX_ATTEMPTS,
        backoffMs: 50,
        // A window longer than the test: no budget refills while it runs.
        retryBudget: { ratio: RATIO, floor: FLOOR, windowSeconds: 600 },
      },
      models: { healthy: model(healthy), failing: model(failing) },
      // The site is hammered on purpose: no robots.txt, no per-host pacing.
      scrape: { robots: { enabled: false }, perHost: { enabled: false } },
      worker: { concurrency: { interactive: 2, batch: 16 } },
      log: { level: 'warn' },
    },
  });
  noisy = (await t.tenant()).api;
  quiet = (await t.tenant()).api;
}, 60_000);
afterAll(async () => {
  await t?.close();
  await failing?.close();
  await healthy?.close();
  await site?.close();
});

const submit = async (api: Api, body: unknown): Promise<string> => {
  const res = await api.post<JobRecord>('/v1/jobs', body);
  expect(res.status).toBe(202);
  return res.body.id;
};
const job = (model: string, i: number) =>
  completion(`question ${i} for ${model}`, {
    lane: 'batch',
    request: { model, messages: [{ role: 'user', content: `q${i}` }] },
  });
const final = async (api: Api, id: string): Promise<JobRecord> => {
  for (;;) {
    const res = await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' });
    if (res.body.finished_at) return res.body;
  }
};

describe('retry budgets per upstream and per tenant', () => {
  it('a failing model and a rate-limited site spend their own budgets; another tenant’s healthy model keeps its retries', async () => {
    // Submitted together, interleaved: the noisy tenant's jobs and the quiet tenant's.
    const submissions = await Promise.all([
      ...Array.from({ length: NOISY_JOBS }, (_, i) =>
        submit(noisy, job('failing', i)).then((id) => ['failing', id]),
      ),
      ...Array.from({ length: NOISY_JOBS }, (_, i) =>
        submit(noisy, { type: 'scrape', lane: 'batch', request: { url: `${site.url}/page/${i}` } }).then(
          (id) => ['site', id],
        ),
      ),
      ...Array.from({ length: QUIET_JOBS }, (_, i) =>
        submit(quiet, job('healthy', i)).then((id) => ['healthy', id]),
      ),
    ]);
    const done = await Promise.all(
      submissions.map(async ([what, id]) => ({
        what,
        job: await final(what === 'healthy' ? quiet : noisy, id!),
      })),
    );
    const of = (what: string) => done.filter((d) => d.what === what).map((d) => d.job);
    const codes = (jobs: JobRecord[]) => jobs.map((j) => j.error?.code ?? j.status);
    const spent = (jobs: JobRecord[]) => codes(jobs).filter((c) => c === 'retry_budget_exhausted').length;

    // The failing model: every job failed, and its budget (not attempts) stopped most retries.
    const failed = of('failing');
    expect(failed.every((j) => j.status === 'failed')).toBe(true);
    expect(spent(failed)).toBeGreaterThan(NOISY_JOBS / 2);
    const failingCalls = failing.stats().calls;
    expect(failingCalls).toBeLessThanOrEqual(NOISY_JOBS + Math.floor(NOISY_JOBS * RATIO) + FLOOR);

    // The rate-limited site: its own budget ran out too.
    expect(spent(of('site'))).toBeGreaterThan(0);
    const siteRetries = of('site').reduce((n, j) => n + Math.max(0, j.attempts - 1), 0);
    expect(siteRetries).toBeLessThanOrEqual(Math.floor(NOISY_JOBS * RATIO) + FLOOR);

    // The worker's log names the upstream whose budget ran out, and only those.
    const spentOn = new Set([...t.logs.join('').matchAll(/"budget":"([^"]+)"/g)].map((m) => m[1]));
    expect([...spentOn].sort()).toEqual(['host:127.0.0.71', 'model:failing']);

    // The quiet tenant: retried where its model failed now and then, and every job succeeded.
    const ok = of('healthy');
    expect(codes(ok)).toEqual(Array.from({ length: QUIET_JOBS }, () => 'succeeded'));
    expect(ok.filter((j) => j.attempts > 1).length).toBeGreaterThan(0);
    console.log(
      `failing model: ${failingCalls} calls for ${NOISY_JOBS} jobs, ${spent(failed)} refused a retry; ` +
        `site: ${siteRetries} retries, ${spent(of('site'))} refused; healthy model: ` +
        `${ok.reduce((n, j) => n + j.attempts - 1, 0)} retries, all ${QUIET_JOBS} succeeded`,
    );
  }, 180_000);
});
