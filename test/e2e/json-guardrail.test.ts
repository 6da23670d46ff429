import type { CompletionResult, JobRecord, UsageReport } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

/**
 * The JSON guardrail end to end: the mock upstream answers prose (`mock`), a valid answer
 * (`json`) or JSON that misses a required field (`json-partial`); every answer is billed by the
 * mock, so the ledger must hold the invalid attempts' cost too.
 */
let t: TestStack;
let mock: MockLlm;

const VALID = '{"city": "Oslo", "temp": -3}';
const PARTIAL = '{"city": "Oslo"}';
const WEATHER = {
  type: 'json_schema',
  json_schema: {
    name: 'weather',
    strict: true,
    schema: {
      type: 'object',
      properties: { city: { type: 'string' }, temp: { type: 'number' } },
      required: ['city', 'temp'],
      additionalProperties: false,
    },
  },
};

beforeAll(async () => {
  mock = await startMockLlm({
    models: ['mock-small', 'mock-json', 'mock-partial'],
    answers: { 'mock-json': VALID, 'mock-partial': PARTIAL },
  });
  const model = (upstreamModel: string) => ({
    baseUrl: `${mock.url}/v1`,
    upstreamModel,
    price: MOCK_PRICE,
    timeoutMs: 5_000,
  });
  t = await startTestStack({
    mock,
    config: { models: { json: model('mock-json'), 'json-partial': model('mock-partial') } },
  });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

/** nano-USD the mock's billing says a model's calls cost, at the test price. */
function billedNanos(upstreamModel: string): number {
  const m = mock.stats().byModel[upstreamModel] ?? { promptTokens: 0, completionTokens: 0 };
  return (
    m.promptTokens * MOCK_PRICE.inputPerMTok * 1000 + m.completionTokens * MOCK_PRICE.outputPerMTok * 1000
  );
}

async function run(api: Api, model: string, response_format: unknown, extra: Record<string, unknown> = {}) {
  const request = {
    model,
    messages: [{ role: 'user', content: 'weather in Oslo as JSON' }],
    response_format,
  };
  const res = await api.post<JobRecord>(
    '/v1/jobs',
    { type: 'completion', lane: 'interactive', request, ...extra },
    { prefer: 'wait=20' },
  );
  expect(res.status).toBe(200);
  const job = (await api.get<JobRecord>(`/v1/jobs/${res.body.id}`)).body;
  return { job, result: job.result as CompletionResult | null, log: job.attempt_log ?? [] };
}

describe('JSON guardrail (response_format)', () => {
  it('a valid answer passes on the first attempt', async () => {
    const { api } = await t.tenant();
    const { job, result, log } = await run(api, 'json', WEATHER);
    expect(job.status).toBe('succeeded');
    expect(result?.message.content).toBe(VALID);
    expect(log.map((e) => e.outcome)).toEqual(['ok']);
  });

  it('an answer that is not JSON moves the job to its fallback model; the invalid attempt stays in the ledger at its cost', async () => {
    const { api } = await t.tenant();
    const before = mock.stats().calls;
    const { job, result, log } = await run(api, 'mock', { type: 'json_object' }, { fallbacks: ['json'] });
    expect(job.status).toBe('succeeded');
    expect(result).toMatchObject({ model: 'json', message: { content: VALID } });
    // Not retried on the same model: one call each.
    expect(mock.stats().calls).toBe(before + 2);
    expect(log.map((e) => [e.attempt, e.model, e.outcome])).toEqual([
      [1, 'mock', 'invalid_output'],
      [2, 'json', 'ok'],
    ]);
    const invalid = log[0]!;
    expect(invalid.input_tokens).toBeGreaterThan(0);
    expect(invalid.output_tokens).toBe(16);
    expect(invalid.cost.nano_usd).toBe(invalid.input_tokens * 150 + invalid.output_tokens * 600);
    expect(job.cost.nano_usd).toBe(invalid.cost.nano_usd + log[1]!.cost.nano_usd);
  });

  it('JSON that does not match the schema falls back the same way', async () => {
    const { api } = await t.tenant();
    const { job, log } = await run(api, 'json-partial', WEATHER, { fallbacks: ['json'] });
    expect(job.status).toBe('succeeded');
    expect(log.map((e) => [e.model, e.outcome])).toEqual([
      ['json-partial', 'invalid_output'],
      ['json', 'ok'],
    ]);
    expect(log[0]!.cost.nano_usd).toBeGreaterThan(0);
  });

  it('without a fallback the job fails invalid_output after one attempt, and what it cost is billed', async () => {
    const { api } = await t.tenant();
    const before = mock.stats().calls;
    const { job, log } = await run(api, 'json-partial', WEATHER);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'invalid_output' });
    expect(job.error?.message).toContain("must have required property 'temp'");
    expect(job.error?.message).not.toContain('Oslo'); // our words, never the answer
    expect(job.attempts).toBe(1);
    expect(mock.stats().calls).toBe(before + 1);
    expect(log).toMatchObject([{ outcome: 'invalid_output' }]);
    expect(job.cost.nano_usd).toBe(log[0]!.cost.nano_usd);
    expect(job.cost.nano_usd).toBeGreaterThan(0);
    const usage = (await api.get<UsageReport>('/v1/usage?group_by=outcome')).body;
    expect(usage.rows).toMatchObject([
      { key: 'invalid_output', attempts: 1, cost: { nano_usd: job.cost.nano_usd } },
    ]);
  });

  it("the ledger equals the mock's billing, invalid answers included", async () => {
    const { api } = await t.tenant();
    mock.resetStats();
    // prose, then JSON without `temp`, then a valid answer: three billed calls for one job
    const chain = await run(api, 'mock', WEATHER, { fallbacks: ['json-partial', 'json'] });
    expect(chain.log.map((e) => e.outcome)).toEqual(['invalid_output', 'invalid_output', 'ok']);
    await run(api, 'json-partial', WEATHER);
    await run(api, 'json', WEATHER);
    const usage = (await api.get<UsageReport>('/v1/usage?group_by=model')).body;
    const billed = billedNanos('mock-small') + billedNanos('mock-partial') + billedNanos('mock-json');
    expect(mock.stats().billedCalls).toBe(5);
    expect(usage.total.cost.nano_usd).toBe(Math.round(billed));
  });

  it('chat completions: an invalid answer is an OpenAI error with code invalid_output; a valid streamed answer arrives whole', async () => {
    const { key } = await t.tenant();
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'weather in Oslo as JSON' }];
    await expect(
      client.chat.completions.create({ model: 'mock', messages, response_format: { type: 'json_object' } }),
    ).rejects.toMatchObject({ status: 502, code: 'invalid_output' });
    // A guarded stream is checked before any of it is sent: an invalid one sends nothing but the error.
    const prose = await client.chat.completions.create({
      model: 'mock',
      messages,
      response_format: { type: 'json_object' },
      stream: true,
    });
    let proseText = '';
    const consume = async () => {
      for await (const c of prose) proseText += c.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toThrow(/not JSON/);
    expect(proseText).toBe('');
    const stream = await client.chat.completions.create({
      model: 'json',
      messages,
      response_format: WEATHER as OpenAI.ResponseFormatJSONSchema,
      stream: true,
    });
    const deltas: string[] = [];
    for await (const c of stream) if (c.choices[0]?.delta.content) deltas.push(c.choices[0].delta.content);
    expect(deltas.join('')).toBe(VALID);
    expect(JSON.parse(deltas.join(''))).toEqual({ city: 'Oslo', temp: -3 });
  });

  it('a schema that does not compile is refused at admission: 400, no job, no upstream call', async () => {
    const { api } = await t.tenant();
    const before = mock.stats().calls;
    const bad = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'no-such-type' } } };
    const res = await api.post<{ code: string; errors: { path: string }[] }>('/v1/jobs', {
      type: 'completion',
      request: { model: 'json', messages: [{ role: 'user', content: 'x' }], response_format: bad },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'request.response_format.json_schema.schema' }],
    });
    const shape = await api.post<{ code: string }>('/v1/jobs', {
      type: 'completion',
      request: {
        model: 'json',
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'yaml' },
      },
    });
    expect(shape.status).toBe(400);
    expect(mock.stats().calls).toBe(before);
  });
});
