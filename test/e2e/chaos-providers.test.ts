import { ERROR_CODES, type JobRecord, type UsageReport, type UsageRow } from '@switchyard/contracts';
import { startMockAnthropic, startMockLlm, type LlmStats, type MockLlm } from '@switchyard/mock-upstream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/** Every token class priced apart, so a class counted in the wrong bucket moves the total. */
const GPT_PRICE = {
  inputPerMTok: 0.15,
  outputPerMTok: 0.6,
  cachedInputPerMTok: 0.075,
  reasoningPerMTok: 0.9,
};
const CLAUDE_PRICE = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 };
const JOBS = 300; // per provider, non-streaming
const STREAMS = 80; // per provider, streaming
const MAX_ATTEMPTS = 4;
/** The faults of the original chaos test, plus errors inside 200 answers. */
const FAULTS = {
  error5xx: 0.2,
  rateLimit: 0.1,
  timeout: 0.03,
  streamCut: 0.07,
  errorIn200: 0.03,
  retryAfterSeconds: 1,
};

let gptMock: MockLlm;
let claudeMock: MockLlm;
let t: TestStack;
let api: Api;
let key: string;

beforeAll(async () => {
  const billing = { answerWords: 12, promptCache: true, reasoningTokens: 4 };
  gptMock = await startMockLlm(billing);
  claudeMock = await startMockAnthropic({ ...billing, apiKey: 'sk-ant-chaos' });
  const model = { timeoutMs: 2_000, upstreamModel: 'mock-small' };
  t = await startTestStack({
    mock: gptMock,
    config: {
      jobs: { maxAttempts: MAX_ATTEMPTS, backoffMs: 20, retryBudget: { ratio: 2, floor: 100 } },
      worker: { concurrency: { interactive: 32, batch: 64 } },
      models: {
        gpt: { ...model, baseUrl: `${gptMock.url}/v1`, price: GPT_PRICE },
        claude: {
          ...model,
          provider: 'anthropic',
          baseUrl: `${claudeMock.url}/v1`,
          apiKeyEnv: 'ANTHROPIC_API_KEY',
          price: CLAUDE_PRICE,
        },
      },
      log: { level: 'warn' },
    },
    secrets: { ANTHROPIC_API_KEY: 'sk-ant-chaos' },
  });
  const tenant = await t.tenant();
  api = tenant.api;
  key = tenant.key;
});
afterAll(async () => {
  await t?.close();
  await gptMock?.close();
  await claudeMock?.close();
});

/** A request whose system prompt is shared by every tenth job: the prompt cache is written and read. */
const messages = (i: number) => [
  { role: 'system', content: `shared timetable rules number ${i % 10} apply to every answer` },
  { role: 'user', content: `chaos job ${i} asks which platform` },
];

async function inBatches<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 100)
    out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => fn(i + j)))));
  return out;
}

/** A non-streaming job, waited for. */
async function runJob(model: string, i: number): Promise<JobRecord> {
  const spec = {
    type: 'completion',
    lane: 'batch',
    timeout_ms: 60_000,
    request: { model, messages: messages(i) },
  };
  const { body } = await api.post<JobRecord>('/v1/jobs', spec);
  return (await api.get<JobRecord>(`/v1/jobs/${body.id}`, { prefer: 'wait=120' })).body;
}

/** A streaming request read to its end (an error event is an end too); its job, once final. */
async function runStream(model: string, i: number): Promise<JobRecord> {
  const claude = model === 'claude';
  const body = claude
    ? { model, max_tokens: 64, system: messages(i)[0]?.content, messages: messages(i).slice(1), stream: true }
    : { model, messages: messages(i), stream: true, stream_options: { include_usage: true } };
  const res = await request(`${t.url}/v1/${claude ? 'messages' : 'chat/completions'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.body.text();
  const id = res.headers['x-switchyard-job-id'] as string;
  for (;;) {
    const job = (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body;
    if (job.status === 'succeeded' || job.status === 'failed') return job;
  }
}

/** What a mock billed, priced by the model's table: the ground truth for the ledger. */
function billedNanos(s: LlmStats, p: typeof GPT_PRICE & typeof CLAUDE_PRICE): number {
  const n = (usd: number | undefined, fallback: number) => Math.round((usd ?? fallback) * 1000);
  const plainIn = s.promptTokens - s.cachedPromptTokens - s.cacheWriteTokens;
  return (
    plainIn * n(p.inputPerMTok, 0) +
    s.cachedPromptTokens * n(p.cachedInputPerMTok, p.inputPerMTok) +
    s.cacheWriteTokens * n(p.cacheWritePerMTok, p.inputPerMTok) +
    (s.completionTokens - s.reasoningTokens) * n(p.outputPerMTok, 0) +
    s.reasoningTokens * n(p.reasoningPerMTok, p.outputPerMTok)
  );
}

function expectLedgerEqualsBill(row: UsageRow | undefined, s: LlmStats, price: object): void {
  expect(row, 'a usage row for the model').toBeDefined();
  if (!row) return;
  const est = row.estimated;
  // Exact: every call is an attempt; the billed tokens of each class and their price, to the nano-USD.
  expect(row.attempts).toBe(s.calls);
  expect(row.input_tokens - est.input_tokens).toBe(s.promptTokens);
  expect(row.output_tokens - est.output_tokens).toBe(s.completionTokens);
  expect(row.cached_input_tokens).toBe(s.cachedPromptTokens);
  expect(row.cache_write_tokens).toBe(s.cacheWriteTokens);
  expect(row.reasoning_tokens).toBe(s.reasoningTokens);
  expect(row.cost.nano_usd - est.cost.nano_usd).toBe(
    billedNanos(s, price as typeof GPT_PRICE & typeof CLAUDE_PRICE),
  );
  // Estimated: exactly the cut streams, never $0.
  expect(est.attempts).toBe(s.cut.calls);
  expect(est.input_tokens).toBeGreaterThan(0);
  expect(est.cost.nano_usd).toBeGreaterThan(0);
}

describe('chaos: both providers, every token class, against faulty upstreams', () => {
  it('every job ends clearly, and the ledger equals each upstream’s bill by token class, to the nano-dollar', async () => {
    for (const [i, mock] of [gptMock, claudeMock].entries()) {
      mock.resetStats();
      mock.setFaults({ ...FAULTS, seed: 7 + i, ...(mock === claudeMock ? { status5xx: 529 } : {}) });
    }
    const jobs = (
      await Promise.all([
        inBatches(JOBS, (i) => runJob('gpt', i)),
        inBatches(JOBS, (i) => runJob('claude', i)),
        inBatches(STREAMS, (i) => runStream('gpt', i)),
        inBatches(STREAMS, (i) => runStream('claude', i)),
      ])
    ).flat();

    expect(jobs.filter((j) => j.status !== 'succeeded' && j.status !== 'failed')).toEqual([]);
    for (const j of jobs.filter((x) => x.status === 'failed')) expect(ERROR_CODES).toContain(j.error?.code);
    expect(Math.max(...jobs.map((j) => j.attempts))).toBeLessThanOrEqual(MAX_ATTEMPTS);
    for (const j of jobs) expect(j.attempt_log).toHaveLength(j.attempts);

    const usage = (await api.get<UsageReport>('/v1/usage?group_by=model')).body;
    const row = (k: string) => usage.rows.find((r) => r.key === k);
    const gpt = gptMock.stats();
    const claude = claudeMock.stats();
    expectLedgerEqualsBill(row('gpt'), gpt, GPT_PRICE);
    expectLedgerEqualsBill(row('claude'), claude, CLAUDE_PRICE);
    // Each class really was billed: cache reads by both, cache writes by Anthropic, reasoning by both.
    for (const s of [gpt, claude]) {
      expect(s.cachedPromptTokens).toBeGreaterThan(0);
      expect(s.reasoningTokens).toBeGreaterThan(0);
      expect(s.cut.calls).toBeGreaterThan(0);
    }
    expect(claude.cacheWriteTokens).toBeGreaterThan(0);
    // Jobs' costs add up to the ledger's; an estimated attempt is flagged in its job's attempt log.
    expect(jobs.reduce((a, j) => a + j.cost.nano_usd, 0)).toBe(usage.total.cost.nano_usd);
    const flagged = jobs.flatMap((j) => j.attempt_log ?? []).filter((a) => a.estimated);
    expect(flagged).toHaveLength(usage.total.estimated.attempts);
    // How far the estimates are from what the upstreams would bill for the cut streams.
    const cut = {
      input: gpt.cut.promptTokens + claude.cut.promptTokens,
      output: gpt.cut.completionTokens + claude.cut.completionTokens,
    };
    const ratio = {
      input: usage.total.estimated.input_tokens / cut.input,
      output: usage.total.estimated.output_tokens / cut.output,
    };
    console.log(
      `estimate / cut-stream bill: input ${ratio.input.toFixed(3)}, output ${ratio.output.toFixed(3)}`,
    );
    expect(ratio.input).toBeGreaterThan(0.5);
    expect(ratio.input).toBeLessThan(2);
    expect(ratio.output).toBeGreaterThan(0.25);
    expect(ratio.output).toBeLessThan(2);
    expect(usage.total.retries).toBeGreaterThan((JOBS + STREAMS) * 2 * 0.2);
  }, 300_000);
});
