import Anthropic from '@anthropic-ai/sdk';
import type { JobRecord } from '@switchyard/contracts';
import { startMockAnthropic, type MockLlm } from '@switchyard/mock-upstream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/** USD per MTok, each token class priced apart (reasoning as output: Anthropic bills it so). */
const CLAUDE_PRICE = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 };
const ANSWER_WORDS = 10;
const REASONING = 5;

let claudeMock: MockLlm;
let t: TestStack;
let api: Api;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  claudeMock = await startMockAnthropic({
    apiKey: 'sk-ant-mock',
    answerWords: ANSWER_WORDS,
    promptCache: true,
    reasoningTokens: REASONING,
  });
  t = await startTestStack({
    config: {
      jobs: { maxAttempts: 2, backoffMs: 20 },
      models: {
        claude: {
          provider: 'anthropic',
          baseUrl: `${claudeMock.url}/v1`,
          upstreamModel: 'mock-large',
          apiKeyEnv: 'ANTHROPIC_API_KEY',
          price: CLAUDE_PRICE,
          timeoutMs: 5_000,
        },
      },
    },
    secrets: { ANTHROPIC_API_KEY: 'sk-ant-mock' },
  });
  const tenant = await t.tenant();
  api = tenant.api;
  // The broker is the single retry authority: the SDKs' own retries are off.
  anthropic = new Anthropic({ baseURL: t.url, apiKey: tenant.key, maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: tenant.key, maxRetries: 0 });
});
afterAll(async () => {
  await t?.close();
  await claudeMock?.close();
});

const job = async (id: string | null) => (await api.get<JobRecord>(`/v1/jobs/${id}`)).body;
const nanos = (tokens: number, usdPerMTok: number) => tokens * Math.round(usdPerMTok * 1000);

describe('Anthropic upstream and POST /v1/messages, with the official @anthropic-ai/sdk', () => {
  it('answers /v1/messages from a Claude model; a repeated system prompt is read from the cache and priced so', async () => {
    const params = {
      model: 'claude',
      max_tokens: 64,
      system: 'you are a terse railway clerk',
      messages: [{ role: 'user' as const, content: 'which track for the 9:15' }],
    };
    const first = await anthropic.messages.create(params).withResponse();
    expect(first.data).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude',
      stop_reason: 'end_turn',
    });
    expect(first.data.content[0]).toMatchObject({ type: 'text' });
    const text = first.data.content[0]?.type === 'text' ? first.data.content[0].text : '';
    expect(text.startsWith('demo answer to: which track for the 9:15')).toBe(true);
    // The system prompt (6 words + 3) is written to the cache by the first call, read by the second.
    expect(first.data.usage).toMatchObject({
      input_tokens: 8,
      cache_creation_input_tokens: 9,
      cache_read_input_tokens: 0,
      output_tokens: ANSWER_WORDS + REASONING,
    });
    const second = await anthropic.messages.create(params).withResponse();
    expect(second.data.usage).toMatchObject({
      input_tokens: 8,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 9,
    });

    const j1 = await job(first.response.headers.get('x-switchyard-job-id'));
    const j2 = await job(second.response.headers.get('x-switchyard-job-id'));
    expect(j1.attempt_log?.[0]).toMatchObject({
      input_tokens: 17,
      cache_write_tokens: 9,
      reasoning_tokens: REASONING,
    });
    expect(j2.attempt_log?.[0]).toMatchObject({
      input_tokens: 17,
      cached_input_tokens: 9,
      reasoning_tokens: REASONING,
    });
    const out = nanos(ANSWER_WORDS + REASONING, CLAUDE_PRICE.outputPerMTok);
    expect(j1.cost.nano_usd).toBe(nanos(8, 3) + nanos(9, CLAUDE_PRICE.cacheWritePerMTok) + out);
    expect(j2.cost.nano_usd).toBe(nanos(8, 3) + nanos(9, CLAUDE_PRICE.cachedInputPerMTok) + out);
  });

  it('streams /v1/messages as Messages API events; the SDK assembles the same text and usage', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude',
      max_tokens: 4,
      messages: [{ role: 'user', content: 'stream me a short answer' }],
    });
    const deltas: string[] = [];
    stream.on('text', (d) => deltas.push(d));
    const message = await stream.finalMessage();
    expect(deltas.length).toBe(4);
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'demo answer to: stream' });
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage).toMatchObject({ input_tokens: 8, output_tokens: 4 + REASONING });
  });

  it('an OpenAI-shaped request (openai SDK) reaches a Claude model, stream and not, with cached tokens in usage', async () => {
    const messages = [
      { role: 'system' as const, content: 'answer like a timetable' },
      { role: 'user' as const, content: 'next departure' },
    ];
    await openai.chat.completions.create({ model: 'claude', messages });
    const plain = await openai.chat.completions.create({ model: 'claude', messages, max_tokens: 3 });
    expect(plain.choices[0]).toMatchObject({
      message: { content: 'demo answer to:' },
      finish_reason: 'length',
    });
    expect(plain.usage).toMatchObject({
      prompt_tokens: 7 + 5,
      completion_tokens: 3 + REASONING,
      prompt_tokens_details: { cached_tokens: 7 },
      completion_tokens_details: { reasoning_tokens: REASONING },
    });
    const stream = await openai.chat.completions.create({
      model: 'claude',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(`demo answer to: next departure ${'this is a deterministic mock'}`);
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(7);
  });

  it('/v1/messages can target any configured model, an OpenAI-compatible one too', async () => {
    const msg = await anthropic.messages.create({
      model: 'mock',
      max_tokens: 5,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello from claude land' }] }],
    });
    expect(msg.model).toBe('mock');
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'demo answer to: hello from' });
    expect(msg.usage).toMatchObject({ input_tokens: 7, output_tokens: 5, cache_read_input_tokens: 0 });
  });

  it('a 529 overloaded upstream is an upstream fault: retried, then an Anthropic-style error the SDK raises', async () => {
    claudeMock.resetStats();
    claudeMock.setFaults({ error5xx: 1, status5xx: 529 });
    try {
      const err = await anthropic.messages
        .create({ model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: 'are you there' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      const apiErr = err as InstanceType<typeof Anthropic.APIError>;
      expect(apiErr.status).toBe(502);
      expect(apiErr.error).toMatchObject({
        type: 'error',
        error: { type: 'api_error', code: 'upstream_error' },
      });
      expect(claudeMock.stats().byOutcome['5xx']).toBe(2); // maxAttempts: retried once
    } finally {
      claudeMock.setFaults({});
    }
  });

  it('an Anthropic 429 is retried after its retry-after, then fails upstream_rate_limited', async () => {
    claudeMock.resetStats();
    claudeMock.setFaults({ rateLimit: 1, retryAfterSeconds: 1 });
    try {
      const started = Date.now();
      const res = await api.post<JobRecord>(
        '/v1/jobs',
        { type: 'completion', request: { model: 'claude', messages: [{ role: 'user', content: 'hi' }] } },
        { prefer: 'wait=30' },
      );
      expect(res.body).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: { code: 'upstream_rate_limited' },
      });
      const log = (await job(res.body.id)).attempt_log;
      expect(log?.map((a) => a.outcome)).toEqual(['rate_limited', 'rate_limited']);
      // The retry waited for the upstream's retry-after (1 s), not the 20 ms backoff.
      const gap = Date.parse(log?.[1]?.started_at ?? '') - Date.parse(log?.[0]?.started_at ?? '');
      expect(gap).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(claudeMock.stats().byOutcome['429']).toBe(2);
    } finally {
      claudeMock.setFaults({});
    }
  });

  it('refuses what it cannot map, with a stable code: tool definitions, image blocks, a missing max_tokens', async () => {
    const bad = [
      { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 't' }] },
      {
        model: 'claude',
        max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }],
      },
      { model: 'claude', messages: [{ role: 'user', content: 'x' }] },
    ];
    for (const body of bad) {
      const res = await api.post<{ type: string; error: { type: string; code: string } }>(
        '/v1/messages',
        body,
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', code: 'validation_failed' },
      });
    }
    const unknown = await api.post<{ error: { type: string; code: string } }>('/v1/messages', {
      model: 'no-such-model',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(unknown.body.error.code).toBe('unknown_model');
  });
});
