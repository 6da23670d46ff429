import { afterEach, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlm } from './mock-llm.ts';
import { postChat, send } from './test-client.ts';

let mock: MockLlm | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const from = (localAddress: string) => ({ localAddress });

describe('mock LLM: per-source-IP limits and blocks', () => {
  it('an IP over its per-second limit gets 429 with Retry-After while another IP is served', async () => {
    mock = await startMockLlm({ rateLimit: { perIpPerSecond: 2, retryAfterSeconds: 5 } });
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await postChat(mock.url, {}, from('127.0.0.12')));
    expect(a.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(a[2]?.headers['retry-after']).toBe('5');
    expect(JSON.parse(a[2]?.body ?? '{}').error.code).toBe('rate_limit_exceeded');
    expect((await postChat(mock.url, {}, from('127.0.0.13'))).status).toBe(200);

    const stats = mock.stats();
    expect(stats.byIp['127.0.0.12']).toMatchObject({ calls: 3, billedCalls: 2, rateLimited: 1, blocked: 0 });
    expect(stats.byIp['127.0.0.13']).toMatchObject({ calls: 1, billedCalls: 1, rateLimited: 0 });
    expect(stats.byOutcome).toMatchObject({ ok: 3, '429': 1 });
  });

  it('an IP is admitted again once its second has passed', async () => {
    mock = await startMockLlm({ rateLimit: { perIpPerSecond: 1 } });
    expect((await postChat(mock.url, {}, from('127.0.0.14'))).status).toBe(200);
    const limited = await postChat(mock.url, {}, from('127.0.0.14'));
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '1']);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await postChat(mock.url, {}, from('127.0.0.14'))).status).toBe(200);
  });

  it('a blocked IP gets 403 on every API route while other IPs are served, until unblocked', async () => {
    mock = await startMockLlm();
    mock.blockIp('127.0.0.20');
    const blocked = await postChat(mock.url, {}, from('127.0.0.20'));
    expect(blocked.status).toBe(403);
    expect(JSON.parse(blocked.body).error.code).toBe('ip_blocked');
    expect((await send(`${mock.url}/v1/models`, from('127.0.0.20'))).status).toBe(403);
    expect((await postChat(mock.url, {}, from('127.0.0.21'))).status).toBe(200);
    mock.unblockIp('127.0.0.20');
    expect((await postChat(mock.url, {}, from('127.0.0.20'))).status).toBe(200);

    expect(mock.stats().byIp['127.0.0.20']).toMatchObject({ calls: 2, billedCalls: 1, blocked: 1 });
    expect(mock.stats().byOutcome['403']).toBe(1);
  });

  it('the ledger splits calls and tokens by source IP and by model', async () => {
    mock = await startMockLlm({ answerWords: 3 });
    await postChat(mock.url, { model: 'mock-small' }, from('127.0.0.30'));
    await postChat(mock.url, { model: 'mock-large' }, from('127.0.0.31'));
    await postChat(mock.url, { model: 'mock-large' }, from('127.0.0.31'));
    const stats = mock.stats();
    expect(stats).toMatchObject({ calls: 3, billedCalls: 3, promptTokens: 15, completionTokens: 9 });
    expect(stats.byIp['127.0.0.30']).toMatchObject({ calls: 1, promptTokens: 5, completionTokens: 3 });
    expect(stats.byIp['127.0.0.31']).toMatchObject({ calls: 2, promptTokens: 10, completionTokens: 6 });
    expect(stats.byModel).toEqual({
      'mock-small': { calls: 1, billedCalls: 1, promptTokens: 5, completionTokens: 3 },
      'mock-large': { calls: 2, billedCalls: 2, promptTokens: 10, completionTokens: 6 },
    });
  });
});
