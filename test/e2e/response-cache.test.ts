import type { CompletionResult, JobRecord, UsageReport } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

/**
 * The exact-match response cache end to end: API + worker + real Redis + the mock upstream over
 * HTTP, whose call count says whether the model was asked.
 */
let t: TestStack;
let mock: MockLlm;

beforeAll(async () => {
  mock = await startMockLlm();
  t = await startTestStack({
    mock,
    config: {
      models: {
        // Caches its deterministic requests without the request asking.
        'mock-cached': {
          baseUrl: `${mock.url}/v1`,
          upstreamModel: 'mock-small',
          price: MOCK_PRICE,
          timeoutMs: 5_000,
          cache: { ttlS: 600 },
        },
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
});

const calls = () => mock.stats().calls;

async function run(api: Api, request: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await api.post<JobRecord>(
    '/v1/jobs',
    { type: 'completion', lane: 'interactive', request, ...extra },
    { prefer: 'wait=20' },
  );
  if (res.status !== 200 || res.body.status !== 'succeeded')
    throw new Error(`job answered ${res.status}: ${JSON.stringify(res.body)}`);
  const log = await api.get<JobRecord>(`/v1/jobs/${res.body.id}`);
  return { job: res.body, result: res.body.result as CompletionResult, log: log.body.attempt_log ?? [] };
}

const ask = (content: string, more: Record<string, unknown> = {}) => ({
  model: 'mock',
  messages: [{ role: 'user', content }],
  temperature: 0,
  ...more,
});

describe('exact-match response cache', () => {
  it('the same deterministic request again is answered from the cache: cached, no upstream call, a cache_hit ledger entry at $0', async () => {
    const { api } = await t.tenant();
    const first = await run(api, ask('what is a switchyard', { max_tokens: 50 }), { cache: { ttl_s: 600 } });
    expect(first.result.cached).toBeUndefined();
    expect(first.job.cost.nano_usd).toBeGreaterThan(0);
    const seen = calls();
    // The same request with its keys in another order is the same request.
    const again = await run(
      api,
      {
        max_tokens: 50,
        temperature: 0,
        messages: [{ content: 'what is a switchyard', role: 'user' }],
        model: 'mock',
      },
      { cache: { ttl_s: 600 } },
    );
    expect(calls()).toBe(seen);
    expect(again.result).toEqual({ ...first.result, cached: true });
    expect(again.job.cost.nano_usd).toBe(0);
    expect(again.job.attempts).toBe(1);
    expect(again.log).toMatchObject([
      { outcome: 'cache_hit', cost: { nano_usd: 0 }, input_tokens: 0, proxy_id: null },
    ]);
    // Another parameter is another request: the model is asked.
    await run(api, ask('what is a switchyard', { max_tokens: 51 }), { cache: { ttl_s: 600 } });
    expect(calls()).toBe(seen + 1);
  });

  it('the cache is per tenant: another tenant with the same request asks the model', async () => {
    const a = (await t.tenant()).api;
    const b = (await t.tenant()).api;
    const request = ask('tenant scoping of the cache');
    await run(a, request, { cache: { ttl_s: 600 } });
    const seen = calls();
    const other = await run(b, request, { cache: { ttl_s: 600 } });
    expect(calls()).toBe(seen + 1);
    expect(other.result.cached).toBeUndefined();
    expect(other.job.cost.nano_usd).toBeGreaterThan(0);
    // ...and then b has its own entry.
    expect((await run(b, request, { cache: { ttl_s: 600 } })).result.cached).toBe(true);
    expect(calls()).toBe(seen + 1);
  });

  it('a sampled request is not cached unless it says nondeterministic', async () => {
    const { api } = await t.tenant();
    for (const request of [
      ask('sampled', { temperature: 0.7 }),
      { ...ask('no temperature'), temperature: undefined },
    ]) {
      const seen = calls();
      const a = await run(api, request, { cache: { ttl_s: 600 } });
      const b = await run(api, request, { cache: { ttl_s: 600 } });
      expect(calls()).toBe(seen + 2);
      expect([a.result.cached, b.result.cached]).toEqual([undefined, undefined]);
    }
    const optIn = { cache: { ttl_s: 600, nondeterministic: true } };
    await run(api, ask('sampled on purpose', { temperature: 0.9 }), optIn);
    const seen = calls();
    expect((await run(api, ask('sampled on purpose', { temperature: 0.9 }), optIn)).result.cached).toBe(true);
    expect(calls()).toBe(seen);
  });

  it("a model's cache config caches its temperature-0 requests by default; ttl_s 0 turns it off for one request", async () => {
    const { api } = await t.tenant();
    const request = ask('model level cache', { model: 'mock-cached' });
    await run(api, request);
    const seen = calls();
    expect((await run(api, request)).result.cached).toBe(true);
    expect(calls()).toBe(seen);
    expect((await run(api, request, { cache: { ttl_s: 0 } })).result.cached).toBeUndefined();
    expect(calls()).toBe(seen + 1);
    // The plain model has no cache config: nothing is cached without the request asking.
    const plain = ask('model level cache');
    await run(api, plain);
    expect((await run(api, plain)).result.cached).toBeUndefined();
    expect(calls()).toBe(seen + 3);
  });

  it("ttl_s: an entry lives its storing request's ttl_s, and a lookup takes no answer older than its own", async () => {
    const { api } = await t.tenant();
    const shortLived = ask('short lived');
    const longLived = ask('long lived');
    await run(api, shortLived, { cache: { ttl_s: 1 } });
    await run(api, longLived, { cache: { ttl_s: 600 } });
    await new Promise((r) => setTimeout(r, 1_300));
    const seen = calls();
    // Stored for 1 s: gone, even for a request that would take an older answer.
    expect((await run(api, shortLived, { cache: { ttl_s: 600 } })).result.cached).toBeUndefined();
    expect(calls()).toBe(seen + 1);
    // Stored for 600 s but older than this request accepts: the model is asked (and the entry renewed).
    expect((await run(api, longLived, { cache: { ttl_s: 1 } })).result.cached).toBeUndefined();
    expect(calls()).toBe(seen + 2);
    expect((await run(api, longLived, { cache: { ttl_s: 600 } })).result.cached).toBe(true);
    expect(calls()).toBe(seen + 2);
  });

  it('chat completions: a hit says cached: true at $0, and a streaming request gets the stored answer replayed as a stream', async () => {
    const { key } = await t.tenant();
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    const body = {
      model: 'mock',
      temperature: 0,
      messages: [{ role: 'user' as const, content: 'stream me from the cache' }],
      cache: { ttl_s: 600 },
    };
    const first = await client.chat.completions.create(body);
    const seen = calls();
    const { data, response } = await client.chat.completions.create(body).withResponse();
    expect(calls()).toBe(seen);
    expect(response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(response.headers.get('x-switchyard-cost-usd')).toBe((0).toFixed(9));
    expect((data as unknown as { cached?: boolean }).cached).toBe(true);
    expect(data.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    expect(data.usage).toEqual(first.usage);

    const stream = await client.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let cachedFlag: unknown;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.choices[0]?.finish_reason) {
        finish = c.choices[0].finish_reason;
        cachedFlag = (c as unknown as { cached?: boolean }).cached;
      }
      if (c.usage) usage = c.usage;
    }
    expect(calls()).toBe(seen);
    expect(text).toBe(first.choices[0]?.message.content);
    expect(finish).toBe('stop');
    expect(cachedFlag).toBe(true);
    expect(usage).toEqual(first.usage);
  });

  it('/v1/usage shows the hits and what they saved', async () => {
    const { api } = await t.tenant();
    const request = ask('count my savings');
    const first = await run(api, request, { cache: { ttl_s: 600 } });
    await run(api, request, { cache: { ttl_s: 600 } });
    await run(api, request, { cache: { ttl_s: 600 } });
    const usage = (await api.get<UsageReport>('/v1/usage?group_by=outcome')).body;
    const spent = first.job.cost.nano_usd;
    expect(
      usage.rows.map((r) => [r.key, r.attempts, r.cost.nano_usd, r.cache_hits, r.saved_cost.nano_usd]),
    ).toEqual([
      ['ok', 1, spent, 0, 0],
      ['cache_hit', 2, 0, 2, 2 * spent],
    ]);
    expect(usage.total).toMatchObject({
      cache_hits: 2,
      saved_cost: { nano_usd: 2 * spent },
      cost: { nano_usd: spent },
    });
    const byModel = (await api.get<UsageReport>('/v1/usage?group_by=model')).body;
    expect(byModel.rows).toMatchObject([{ key: 'mock', attempts: 3, cache_hits: 2 }]);
  });
});
