import { afterEach, describe, expect, it } from 'vitest';
import { startMockAnthropic } from './mock-anthropic.ts';
import type { MockLlm, MockLlmOptions } from './mock-llm.ts';
import { send } from './test-client.ts';

/** The `data:` payloads of a Messages stream (each event has an `event:` line first). */
const dataOf = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string });

let mock: MockLlm | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});
async function start(opts: MockLlmOptions = {}): Promise<MockLlm> {
  mock = await startMockAnthropic({ apiKey: 'k', ...opts });
  return mock;
}

const post = (m: MockLlm, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  send(`${m.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': 'k',
      'anthropic-version': '2023-06-01',
      ...headers,
    },
    body: JSON.stringify({
      model: 'mock-small',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'what is switchyard' }],
      ...body,
    }),
  });

describe('mock Anthropic Messages API', () => {
  it('answers a message whose input usage excludes the cache, and bills a write then a read', async () => {
    const m = await start({ answerWords: 6, promptCache: true, reasoningTokens: 2 });
    const first = JSON.parse((await post(m, {})).body);
    expect(first).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'demo answer to: what is switchyard' }],
      stop_reason: 'end_turn',
      // system "be brief" = 2 words + 3, the user message 3 words + 3; 6 words + 2 reasoning out
      usage: {
        input_tokens: 6,
        cache_creation_input_tokens: 5,
        cache_read_input_tokens: 0,
        output_tokens: 8,
      },
    });
    expect(first.usage.output_tokens_details).toEqual({ thinking_tokens: 2 });
    const second = JSON.parse((await post(m, {})).body);
    expect(second.usage).toMatchObject({
      input_tokens: 6,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 5,
    });
    expect(m.stats()).toMatchObject({
      calls: 2,
      billedCalls: 2,
      promptTokens: 22,
      completionTokens: 16,
      cachedPromptTokens: 5,
      cacheWriteTokens: 5,
      reasoningTokens: 4,
    });
  });

  it('streams message_start, text deltas, message_delta with the usage, message_stop', async () => {
    const m = await start({ answerWords: 3 });
    const reply = await post(m, { stream: true, max_tokens: 2 });
    expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = dataOf(reply.body);
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[6]).toMatchObject({ delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 2 } });
    expect(reply.body).toContain('event: message_delta\n');
  });

  it('refuses like the Messages API: no max_tokens 400, no version 400, wrong key 401, 529 overloaded', async () => {
    const m = await start();
    const noMax = await post(m, { max_tokens: undefined });
    expect(noMax.status).toBe(400);
    expect(JSON.parse(noMax.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((await post(m, {}, { 'anthropic-version': '' })).status).toBe(400);
    expect((await post(m, {}, { 'x-api-key': 'nope' })).status).toBe(401);
    m.setFaults({ error5xx: 1, status5xx: 529 });
    const overloaded = await post(m, {});
    expect(overloaded.status).toBe(529);
    expect(JSON.parse(overloaded.body)).toMatchObject({ error: { type: 'overloaded_error' } });
    m.setFaults({ rateLimit: 1, retryAfterSeconds: 3 });
    const limited = await post(m, {});
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '3']);
  });

  it('a cut stream is billed apart for the prompt and the words it sent', async () => {
    const m = await start({ answerWords: 8, faults: { streamCut: 1 } });
    await expect(post(m, { stream: true })).rejects.toThrow();
    const s = m.stats();
    expect(s.billedCalls).toBe(0);
    expect(s.cut).toEqual({ calls: 1, promptTokens: 11, completionTokens: 4 });
  });
});
