import type { JobRecord } from '@switchyard/contracts';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

interface Usage {
  total: { attempts: number; input_tokens: number; output_tokens: number };
  rows: { key: string; attempts: number }[];
}

let t: TestStack;
let client: OpenAI;
let api: Api;

beforeAll(async () => {
  t = await startTestStack();
  const tenant = await t.tenant();
  api = tenant.api;
  // The broker is the single retry authority: the SDK's own retries are off.
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: tenant.key, maxRetries: 0 });
});
afterAll(async () => t?.close());

const messages = [{ role: 'user' as const, content: 'tell me about switchyards' }];

describe('OpenAI-compatible /v1/chat/completions with the official openai SDK', () => {
  it('answers a non-streaming request with the OpenAI shape, usage and Switchyard headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'mock', messages })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('mock');
    expect(data.choices[0]?.message.content).toContain('demo answer to: tell me about switchyards');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.total_tokens).toBe(
      (data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0),
    );
    const jobId = response.headers.get('x-switchyard-job-id');
    expect(jobId).toMatch(/^ji_/);
    expect(Number(response.headers.get('x-switchyard-cost-usd'))).toBeGreaterThan(0);
    const job = await api.get<JobRecord>(`/v1/jobs/${jobId}`);
    expect(job.body).toMatchObject({ lane: 'interactive', status: 'succeeded' });
    // Answered from the completion event: the same figures the stored job has.
    expect(response.headers.get('x-switchyard-attempts')).toBe(String(job.body.attempts));
    expect(response.headers.get('x-switchyard-cost-usd')).toBe(job.body.cost.usd.toFixed(9));
    expect(data.created).toBe(Math.floor(Date.parse(job.body.created_at) / 1000));
    expect(data.choices[0]?.message.content).toBe(
      job.body.result?.type === 'completion' ? job.body.result.message.content : undefined,
    );
  });

  it('streams deltas as server-sent events, with usage in the final chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(chunks).toBeGreaterThan(10);
    expect(finish).toBe('stop');
    const plain = await client.chat.completions.create({ model: 'mock', messages });
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(usage).toEqual(plain.usage);
  });

  it('a stream cut mid-answer reaches the client as an error and counts as an attempt', async () => {
    const before = (await api.get<Usage>('/v1/usage?group_by=outcome')).body.total.attempts;
    t.mock.setFaults({ streamCut: 1 });
    try {
      const stream = await client.chat.completions.create({ model: 'mock', messages, stream: true });
      let text = '';
      const consume = async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      };
      await expect(consume()).rejects.toThrow(/stream was cut/);
      expect(text.length).toBeGreaterThan(0);
    } finally {
      t.mock.setFaults({});
    }
    const after = (await api.get<Usage>('/v1/usage?group_by=outcome')).body;
    expect(after.total.attempts).toBe(before + 1);
    expect(after.rows.find((r) => r.key === 'upstream_fault')?.attempts).toBeGreaterThanOrEqual(1);
  });

  it('failures map to OpenAI error classes and status codes', async () => {
    await expect(client.chat.completions.create({ model: 'nope', messages })).rejects.toMatchObject({
      status: 400,
      code: 'unknown_model',
      param: 'request.model',
    });
    await expect(client.chat.completions.create({ model: 'mock', messages: [] })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    const stranger = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'sy_wrong', maxRetries: 0 });
    await expect(stranger.chat.completions.create({ model: 'mock', messages })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    t.mock.setFaults({ error5xx: 1 });
    try {
      await expect(client.chat.completions.create({ model: 'mock', messages })).rejects.toMatchObject({
        status: 502,
        code: 'upstream_error',
      });
    } finally {
      t.mock.setFaults({});
    }
  });

  it('honours Idempotency-Key: the same request twice is one job and one upstream call', async () => {
    const calls = t.mock.stats().calls;
    const opts = { headers: { 'Idempotency-Key': 'chat-1' } };
    const a = await client.chat.completions.create({ model: 'mock', messages }, opts).withResponse();
    const b = await client.chat.completions.create({ model: 'mock', messages }, opts).withResponse();
    expect(b.response.headers.get('x-switchyard-job-id')).toBe(a.response.headers.get('x-switchyard-job-id'));
    expect(b.response.headers.get('idempotent-replayed')).toBe('true');
    expect(b.data.choices[0]?.message.content).toBe(a.data.choices[0]?.message.content);
    expect(t.mock.stats().calls).toBe(calls + 1);
  });
});
