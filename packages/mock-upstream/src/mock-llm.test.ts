import { afterEach, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm, type MockLlmOptions } from './mock-llm.ts';
import { postChat, send, sseData } from './test-client.ts';

let mock: MockLlm | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});
async function start(opts: MockLlmOptions = {}): Promise<MockLlm> {
  mock = await startMockLlm(opts);
  return mock;
}

describe('mock LLM: answers', () => {
  it('a completion has the OpenAI shape and its usage adds up', async () => {
    const llm = await start({ answerWords: 8 });
    const reply = await postChat(llm.url, {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'what is switchyard' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    const body = JSON.parse(reply.body);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'mock-small',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'demo answer to: what is switchyard this is' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 2 + 3 + 3 + 3, completion_tokens: 8, total_tokens: 19 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(body.created)).toBe(true);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('a model with a set answer answers that text, billed by its words, and the answer can be changed', async () => {
    const llm = await start({ answers: { 'mock-large': '{"city": "Oslo"}' } });
    const set = JSON.parse((await postChat(llm.url, { model: 'mock-large' })).body);
    expect(set.choices[0].message.content).toBe('{"city": "Oslo"}');
    expect(set.usage.completion_tokens).toBe(2);
    const other = JSON.parse((await postChat(llm.url, { model: 'mock-small' })).body);
    expect(other.choices[0].message.content).toMatch(/^demo answer to:/);
    const ctl = await send(`${llm.url}/__mock/answers`, {
      method: 'POST',
      body: JSON.stringify({ 'mock-small': 'plain words' }),
    });
    expect(ctl.status).toBe(204);
    const changed = JSON.parse((await postChat(llm.url, { model: 'mock-small' })).body);
    expect(changed.choices[0].message.content).toBe('plain words');
    const large = JSON.parse((await postChat(llm.url, { model: 'mock-large' })).body);
    expect(large.choices[0].message.content).toMatch(/^demo answer to:/);
    expect((await send(`${llm.url}/__mock/answers`, { method: 'POST', body: '{"x": 1}' })).status).toBe(400);
    expect(llm.stats().billedCalls).toBe(4);
  });

  it('max_completion_tokens caps the answer with finish_reason length', async () => {
    const llm = await start();
    const body = JSON.parse((await postChat(llm.url, { max_completion_tokens: 2 })).body);
    expect(body.choices[0]).toMatchObject({ message: { content: 'demo answer' }, finish_reason: 'length' });
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });

  it('a stream with include_usage ends with a usage chunk and [DONE]', async () => {
    const llm = await start({ answerWords: 5, tokenDelayMs: 2 });
    const reply = await postChat(llm.url, { stream: true, stream_options: { include_usage: true } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseData(reply.body);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const usageChunk = chunks.at(-1);
    expect(usageChunk).toMatchObject({ object: 'chat.completion.chunk', choices: [] });
    expect(usageChunk.usage).toEqual({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-2).choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('demo answer to: hello mock');
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 1, promptTokens: 5, completionTokens: 5 });
  });

  it('the streamed words join to the same text as the non-streamed answer', async () => {
    const llm = await start({ answerWords: 20 });
    const plain = JSON.parse((await postChat(llm.url, {})).body).choices[0].message.content;
    const events = sseData((await postChat(llm.url, { stream: true })).body);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(plain);
  });

  it('a stream without include_usage is still billed once it completes', async () => {
    const llm = await start({ answerWords: 4 });
    await postChat(llm.url, { stream: true });
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 1, promptTokens: 5, completionTokens: 4 });
  });

  it('the models endpoint lists the configured models, and an unknown model is a 404 billing nothing', async () => {
    const llm = await start({ models: ['demo-1', 'demo-2'] });
    const list = JSON.parse((await send(`${llm.url}/v1/models`)).body);
    expect(list).toMatchObject({
      object: 'list',
      data: [{ id: 'demo-1', object: 'model' }, { id: 'demo-2' }],
    });
    const reply = await postChat(llm.url, { model: 'gpt-nope' });
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body).error).toMatchObject({
      code: 'model_not_found',
      type: 'invalid_request_error',
    });
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 0, byOutcome: { invalid: 1 } });
    expect(llm.stats().byModel['gpt-nope']).toMatchObject({ calls: 1, billedCalls: 0 });
  });

  it('a bad request body is a 400 with an OpenAI error object', async () => {
    const llm = await start();
    const bad = await send(`${llm.url}/v1/chat/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.type).toBe('invalid_request_error');
    const noMessages = await postChat(llm.url, { messages: [] });
    expect(JSON.parse(noMessages.body).error.param).toBe('messages');
  });

  it('a wrong or missing API key gets a 401 OpenAI error and bills nothing', async () => {
    const llm = await start({ apiKey: 'sk-mock-secret' });
    const wrong = await postChat(llm.url, {}, { headers: { authorization: 'Bearer sk-wrong' } });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error).toMatchObject({
      code: 'invalid_api_key',
      type: 'invalid_request_error',
    });
    expect(wrong.body).not.toContain('sk-wrong');
    expect((await postChat(llm.url, {})).status).toBe(401);
    expect((await send(`${llm.url}/v1/models`)).status).toBe(401);
    const right = await postChat(llm.url, {}, { headers: { authorization: 'Bearer sk-mock-secret' } });
    expect(right.status).toBe(200);
    expect(llm.stats()).toMatchObject({ calls: 3, billedCalls: 1, byOutcome: { '401': 2, ok: 1 } });
  });

  it('latency delays the answer, fixed or per request', async () => {
    const llm = await start({ latencyMs: { min: 60, max: 80 } });
    let t = performance.now();
    await postChat(llm.url, {});
    expect(performance.now() - t).toBeGreaterThanOrEqual(55);
    t = performance.now();
    await postChat(llm.url, {}, { headers: { 'x-mock-latency-ms': '150' } });
    expect(performance.now() - t).toBeGreaterThanOrEqual(145);
  });

  it('a client that gives up during the latency is counted as aborted and billed nothing', async () => {
    const llm = await start({ latencyMs: 5_000 });
    await expect(postChat(llm.url, {}, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await expect.poll(() => llm.stats().byOutcome.aborted).toBe(1);
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 0, promptTokens: 0 });
  });

  it('close() ends requests that would never be answered', async () => {
    const llm = await start();
    const hanging = postChat(llm.url, {}, { headers: { 'x-mock-fault': 'timeout' } });
    await expect.poll(() => llm.stats().byOutcome.timeout).toBe(1);
    await llm.close();
    await expect(hanging).rejects.toThrow();
  });
});

describe('mock LLM: control routes', () => {
  it('the stats endpoint matches stats()', async () => {
    const llm = await start();
    await postChat(llm.url, {});
    await postChat(llm.url, { stream: true, stream_options: { include_usage: true } });
    await postChat(llm.url, {}, { headers: { 'x-mock-fault': '503' } });
    const reply = await send(`${llm.url}/__mock/stats`);
    expect(JSON.parse(reply.body)).toEqual(llm.stats());
    expect(llm.stats()).toMatchObject({ calls: 3, billedCalls: 2, byOutcome: { ok: 2, '5xx': 1 } });
  });

  it('faults, limits, blocks and resets can be driven over HTTP', async () => {
    const llm = await start();
    const post = (path: string, body: unknown) =>
      send(`${llm.url}/__mock/${path}`, { method: 'POST', body: JSON.stringify(body) });

    expect((await post('faults', { error5xx: 1, status5xx: 502 })).status).toBe(204);
    expect((await postChat(llm.url, {})).status).toBe(502);
    expect((await post('faults', {})).status).toBe(204);
    expect((await postChat(llm.url, {})).status).toBe(200);
    expect((await post('faults', { error5xx: 2 })).status).toBe(400);

    await post('block', { ip: '127.0.0.1' });
    expect((await postChat(llm.url, {})).status).toBe(403);
    await post('unblock', { ip: '127.0.0.1' });
    await post('rate-limit', { perIpPerSecond: 0, retryAfterSeconds: 3 });
    const limited = await postChat(llm.url, {});
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '3']);
    await post('rate-limit', null);
    expect((await postChat(llm.url, {})).status).toBe(200);

    expect(llm.stats()).toMatchObject({ calls: 5, byOutcome: { ok: 2, '5xx': 1, '403': 1, '429': 1 } });
    expect((await post('reset', {})).status).toBe(204);
    expect(llm.stats()).toMatchObject({ calls: 0, billedCalls: 0, byIp: {}, byModel: {} });
  });
});
