import type { JobRecord, UsageReport } from '@switchyard/contracts';
import { startMockAnthropic, type MockLlm } from '@switchyard/mock-upstream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

const CLAUDE_PRICE = { inputPerMTok: 3, outputPerMTok: 15 };

let claudeMock: MockLlm;
let t: TestStack;
let api: Api;
let key: string;

beforeAll(async () => {
  claudeMock = await startMockAnthropic({ answerWords: 20 });
  t = await startTestStack({
    config: {
      jobs: { maxAttempts: 2, backoffMs: 20 },
      models: {
        claude: {
          provider: 'anthropic',
          baseUrl: `${claudeMock.url}/v1`,
          upstreamModel: 'mock-small',
          price: CLAUDE_PRICE,
        },
      },
    },
  });
  const tenant = await t.tenant();
  api = tenant.api;
  key = tenant.key;
});
afterAll(async () => {
  await t?.close();
  await claudeMock?.close();
});

async function streamCut(path: string, body: unknown): Promise<{ text: string; job: JobRecord }> {
  const res = await request(`${t.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  const id = res.headers['x-switchyard-job-id'] as string;
  const job = (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' })).body;
  return { text, job };
}

describe('a stream cut before its usage is recorded with estimated tokens, never at $0', () => {
  it.each([
    ['mock', 'an OpenAI-compatible upstream', '/v1/chat/completions', MOCK_PRICE],
    ['claude', 'the Anthropic upstream', '/v1/messages', CLAUDE_PRICE],
  ])('%s: %s cuts the stream mid-answer', async (model, _what, path, price) => {
    const mock = model === 'claude' ? claudeMock : t.mock;
    mock.resetStats();
    mock.setFaults({ streamCut: 1 });
    try {
      const prompt = 'please describe the shunting yard at dawn in some detail';
      const { text, job } = await streamCut(path, {
        model,
        max_tokens: 100,
        messages: [{ role: 'user', content: prompt }],
        stream: true,
      });
      expect(text).toMatch(/"(content|text)":" answer"/); // the client saw part of the answer...
      expect(text).toMatch(/error/); // ...then an error event
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1); // deltas were sent: never restarted
      const [a] = job.attempt_log ?? [];
      expect(a).toMatchObject({ outcome: 'upstream_fault', estimated: true });
      // The upstream bills the prompt and the half answer it sent; the estimate is near both.
      const cut = mock.stats().cut;
      expect(cut.calls).toBe(1);
      expect(a?.input_tokens).toBeGreaterThanOrEqual(cut.promptTokens);
      expect(a?.input_tokens).toBeLessThanOrEqual(cut.promptTokens * 2);
      expect(a?.output_tokens).toBeGreaterThanOrEqual(cut.completionTokens);
      expect(a?.output_tokens).toBeLessThanOrEqual(cut.completionTokens * 2);
      const n = (usd: number) => Math.round(usd * 1000);
      expect(a?.cost.nano_usd).toBe(
        (a?.input_tokens ?? 0) * n(price.inputPerMTok) + (a?.output_tokens ?? 0) * n(price.outputPerMTok),
      );
      expect(job.cost.nano_usd).toBe(a?.cost.nano_usd);
      const usage = (await api.get<UsageReport>('/v1/usage?group_by=model')).body;
      const row = usage.rows.find((r) => r.key === model);
      expect(row?.estimated).toMatchObject({
        attempts: 1,
        input_tokens: a?.input_tokens,
        output_tokens: a?.output_tokens,
        cost: { nano_usd: a?.cost.nano_usd },
      });
    } finally {
      mock.setFaults({});
    }
  });
});
