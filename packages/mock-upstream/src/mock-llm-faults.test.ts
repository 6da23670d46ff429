import { afterEach, describe, expect, it } from 'vitest';
import type { FaultConfig } from './faults.ts';
import { startMockLlm, type MockLlm, type MockLlmOptions } from './mock-llm.ts';
import { postChat, sseData } from './test-client.ts';

let mocks: MockLlm[] = [];
afterEach(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  mocks = [];
});
async function start(opts: MockLlmOptions = {}): Promise<MockLlm> {
  const mock = await startMockLlm(opts);
  mocks.push(mock);
  return mock;
}
const fault = (value: string) => ({ headers: { 'x-mock-fault': value } });
const streamWithUsage = { stream: true, stream_options: { include_usage: true } };

describe('mock LLM: faults', () => {
  it('a 5xx is counted as a call but bills no tokens', async () => {
    const llm = await start();
    const reply = await postChat(llm.url, {}, fault('500'));
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body).error.type).toBe('server_error');
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 0, promptTokens: 0, byOutcome: { '5xx': 1 } });
  });

  it('an injected 429 carries the configured Retry-After', async () => {
    const llm = await start({ faults: { rateLimit: 1, retryAfterSeconds: 4 } });
    const reply = await postChat(llm.url, {});
    expect([reply.status, reply.headers['retry-after']]).toEqual([429, '4']);
    expect(JSON.parse(reply.body).error.code).toBe('rate_limit_exceeded');
    expect(llm.stats().byIp['127.0.0.1']).toMatchObject({ calls: 1, rateLimited: 1, billedCalls: 0 });
  });

  it('a timeout never answers; the call is counted and bills nothing', async () => {
    const llm = await start({ faults: { timeout: 1 } });
    await expect(postChat(llm.url, {}, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 0, byOutcome: { timeout: 1, aborted: 0 } });
  });

  it('a cut stream is counted as a call but bills no tokens', async () => {
    const llm = await start({ answerWords: 10, tokenDelayMs: 1 });
    const error = await postChat(llm.url, streamWithUsage, fault('cut')).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect(llm.stats()).toMatchObject({
      calls: 1,
      billedCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      byOutcome: { cut: 1, ok: 0 },
    });
  });

  it('a cut stream delivers some chunks before the connection dies', async () => {
    const llm = await start({ answerWords: 10 });
    const res = await fetch(`${llm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-mock-fault': 'cut' },
      body: JSON.stringify({
        model: 'mock-small',
        messages: [{ role: 'user', content: 'hi' }],
        ...streamWithUsage,
      }),
    });
    expect(res.status).toBe(200);
    let received = '';
    const decoder = new TextDecoder();
    const read = async () => {
      for await (const part of res.body ?? []) received += decoder.decode(part, { stream: true });
    };
    await expect(read()).rejects.toThrow();
    const events = sseData(received);
    expect(events.length).toBe(1 + 5);
    expect(events).not.toContain('[DONE]');
  });

  it('a cut non-stream answer dies mid-body and bills nothing', async () => {
    const llm = await start();
    await expect(postChat(llm.url, {}, fault('cut'))).rejects.toThrow();
    expect(llm.stats()).toMatchObject({ calls: 1, billedCalls: 0, byOutcome: { cut: 1 } });
  });

  it('an error object inside a 200 bills nothing, streamed or not', async () => {
    const llm = await start();
    const plain = await postChat(llm.url, {}, fault('error200'));
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.body)).toMatchObject({ error: { type: 'server_error' } });
    const streamed = await postChat(llm.url, streamWithUsage, fault('error200'));
    expect(streamed.status).toBe(200);
    const events = sseData(streamed.body);
    expect(events.map((e) => JSON.parse(e))).toMatchObject([{ error: { type: 'server_error' } }]);
    expect(llm.stats()).toMatchObject({ calls: 2, billedCalls: 0, byOutcome: { error200: 2 } });
  });

  it('an unknown x-mock-fault value is refused with 400', async () => {
    const llm = await start();
    const reply = await postChat(llm.url, {}, fault('teapot'));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.param).toBe('x-mock-fault');
  });

  it('seeded faults are reproducible', async () => {
    const faults: FaultConfig = { error5xx: 0.25, rateLimit: 0.25, errorIn200: 0.2, streamCut: 0.1, seed: 7 };
    const run = async (llm: MockLlm) => {
      const seen: string[] = [];
      for (let i = 0; i < 30; i++) {
        const reply = await postChat(llm.url, {}).catch(() => undefined);
        seen.push(reply ? `${reply.status}${reply.body.includes('"error"') ? 'e' : ''}` : 'cut');
      }
      return seen;
    };
    const first = await run(await start({ faults }));
    expect(new Set(first).size).toBeGreaterThanOrEqual(4);
    expect(await run(await start({ faults }))).toEqual(first);
    const reseeded = await start({ faults: { ...faults, seed: 8 } });
    expect(await run(reseeded)).not.toEqual(first);
    reseeded.setFaults(faults);
    reseeded.resetStats();
    expect(await run(reseeded)).toEqual(first);
  });

  it('the ledger adds up: outcomes sum to calls and billed tokens match the answers', async () => {
    const llm = await start({
      answerWords: 6,
      faults: { error5xx: 0.2, streamCut: 0.2, errorIn200: 0.1, seed: 3 },
    });
    let prompt = 0;
    let completion = 0;
    for (let i = 0; i < 40; i++) {
      const stream = i % 2 === 0;
      const reply = await postChat(llm.url, stream ? streamWithUsage : {}).catch(() => undefined);
      if (reply?.status !== 200) continue;
      const usage = stream
        ? JSON.parse(sseData(reply.body).at(-2) ?? 'null')?.usage
        : JSON.parse(reply.body).usage;
      if (!usage) continue;
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
      prompt += usage.prompt_tokens;
      completion += usage.completion_tokens;
    }
    const stats = llm.stats();
    expect(Object.values(stats.byOutcome).reduce((a, b) => a + b, 0)).toBe(40);
    expect(stats.billedCalls).toBe(stats.byOutcome.ok);
    expect([stats.promptTokens, stats.completionTokens]).toEqual([prompt, completion]);
    expect(stats.byModel['mock-small']).toMatchObject({ calls: 40, promptTokens: prompt });
  });
});
