import type { JobRecord, Problem } from '@switchyard/contracts';
import { countPromptTokens, planCompletion, startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

// Large payloads end to end: a 1 MB prompt and a 1 MB streamed answer go through the API, Redis,
// a worker and the upstream and back whole, with usage exactly what the upstream billed; a body
// past `api.bodyLimitBytes` (default 1 MiB) is a clear 413.

const MB = 1_000_000;
/** Words of the big model's answer: the mock’s filler words average 5.5 bytes with their space. */
const BIG_ANSWER_WORDS = 190_000;

let small: MockLlm;
let big: MockLlm;
let t: TestStack;
let api: Api;
let client: OpenAI;

beforeAll(async () => {
  small = await startMockLlm();
  big = await startMockLlm({ answerWords: BIG_ANSWER_WORDS });
  const model = (mock: MockLlm) => ({
    baseUrl: `${mock.url}/v1`,
    upstreamModel: 'mock-small',
    price: MOCK_PRICE,
    timeoutMs: 120_000,
  });
  t = await startTestStack({ mock: small, config: { models: { big: model(big) }, log: { level: 'warn' } } });
  const tenant = await t.tenant();
  api = tenant.api;
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: tenant.key, maxRetries: 0, timeout: 170_000 });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await small?.close();
  await big?.close();
});

/** `bytes` of text: short words, so the prompt has many tokens too. */
const text = (bytes: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);

describe('large payloads', () => {
  it('a 1 MB prompt goes through to the upstream whole, with exact usage', async () => {
    const messages = [{ role: 'user' as const, content: text(MB) }];
    const { data, response } = await client.chat.completions
      .create({ model: 'mock', messages })
      .withResponse();
    const expected = countPromptTokens(messages);
    expect(expected).toBeGreaterThan(180_000);
    expect(data.usage?.prompt_tokens).toBe(expected);
    expect(small.stats().promptTokens).toBe(expected);
    const job = await api.get<JobRecord>(`/v1/jobs/${response.headers.get('x-switchyard-job-id')}`);
    expect(job.body.status).toBe('succeeded');
    expect(job.body.attempt_log?.map((a) => [a.outcome, a.input_tokens])).toEqual([['ok', expected]]);
  }, 120_000);

  it('a 1 MB answer streams through whole, with exact usage', async () => {
    const messages = [{ role: 'user' as const, content: 'write at length' }];
    const stream = await client.chat.completions.create({
      model: 'big',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let answer = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      answer += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    const plan = planCompletion(messages, BIG_ANSWER_WORDS, undefined);
    expect(Buffer.byteLength(answer)).toBeGreaterThan(MB);
    expect(answer).toBe(plan.words.join(' '));
    expect(usage).toMatchObject({ prompt_tokens: plan.promptTokens, completion_tokens: BIG_ANSWER_WORDS });
    expect(big.stats().completionTokens).toBe(BIG_ANSWER_WORDS);
  }, 180_000);

  it('a body past the limit is a 413 that names the limit, and nothing is queued', async () => {
    const limit = t.config.api.bodyLimitBytes;
    const over = JSON.stringify(completion(text(limit)));
    expect(Buffer.byteLength(over)).toBeGreaterThan(limit);
    const calls = small.stats().calls;
    const names = new RegExp(`limit of ${limit} bytes`);
    // Switchyard's API: problem+json.
    const jobs = await api.post<Problem>('/v1/jobs', over);
    expect(jobs.status).toBe(413);
    expect(jobs.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(jobs.body).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(jobs.body.detail).toMatch(names);
    // The OpenAI-compatible route: OpenAI's error object, with the same code.
    const chat = await api.post<{ error: { code: string; message: string } }>('/v1/chat/completions', over);
    expect(chat.status).toBe(413);
    expect(chat.body.error.code).toBe('payload_too_large');
    expect(chat.body.error.message).toMatch(names);
    expect(small.stats().calls).toBe(calls);
  });
});
