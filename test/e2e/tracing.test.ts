import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { JobRecord } from '@switchyard/contracts';
import { startMockAnthropic, type MockLlm } from '@switchyard/mock-upstream';
import { startTracing, type Tracing } from '@switchyard/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

/** Tracing is process-wide: this file starts it (vitest runs each file in its own process). */
const exporter = new InMemorySpanExporter();
let tracing: Tracing | undefined;
let t: TestStack;
let api: Api;
let claudeMock: MockLlm;

beforeAll(async () => {
  tracing = await startTracing('e2e', { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  claudeMock = await startMockAnthropic({ promptCache: true, reasoningTokens: 3, answerWords: 6 });
  t = await startTestStack({
    config: {
      models: {
        claude: { provider: 'anthropic', baseUrl: `${claudeMock.url}/v1`, upstreamModel: 'mock-large' },
      },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await claudeMock?.close();
  await tracing?.shutdown();
});

const spansOf = (traceId: string) =>
  exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
const attempt = (spans: ReadableSpan[]) => spans.find((s) => s.name.startsWith('switchyard.attempt'));

describe('OpenTelemetry traces', () => {
  it('a job joins the caller’s trace: the API span, then each worker attempt under it', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const prompt = 'a secret prompt that must not reach a trace';
    const res = await api.post<JobRecord>('/v1/jobs', completion(prompt), {
      traceparent: `00-${traceId}-${callerSpan}-01`,
      prefer: 'wait=10',
    });
    expect(res.body.status).toBe('succeeded');
    const spans = await until('the attempt span', () => {
      const s = spansOf(traceId);
      return attempt(s) && s.length >= 2 ? s : undefined;
    });
    const server = spans.find((s) => s.name === 'POST /v1/jobs');
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(server?.parentSpanContext?.spanId).toBe(callerSpan);
    expect(server?.attributes).toMatchObject({ 'http.route': '/v1/jobs', 'http.response.status_code': 200 });
    const run = attempt(spans);
    expect(run?.kind).toBe(SpanKind.CLIENT);
    expect(run?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(run?.attributes).toMatchObject({
      'switchyard.job_id': res.body.id,
      'switchyard.attempt': 1,
      'switchyard.outcome': 'ok',
      'gen_ai.request.model': 'mock',
    });
    expect(run?.attributes['switchyard.cost_nanos']).toBe(res.body.cost.nano_usd);
    // Ids and outcomes only: the prompt (and the answer) appear nowhere in a trace.
    expect(JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events]))).not.toContain('secret prompt');
  });

  it('without a caller trace, /v1/chat/completions starts one that its attempt joins', async () => {
    const res = await api.post<{ id: string }>('/v1/chat/completions', {
      model: MOCK_MODEL,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(res.status).toBe(200);
    const server = await until('the chat span', () =>
      exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/chat/completions'),
    );
    expect(server.parentSpanContext).toBeUndefined();
    const spans = await until('its attempt', () => {
      const s = spansOf(server.spanContext().traceId);
      return attempt(s) ? s : undefined;
    });
    expect(attempt(spans)?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it.each([
    ['mock', 'openai', 'mock-small'],
    ['claude', 'anthropic', 'mock-large'],
  ])(
    'a %s attempt span carries the GenAI semantic-convention attributes (%s), never content',
    async (model, provider, upstream) => {
      const prompt = 'a secret prompt about the night train';
      const job = async () =>
        (
          await api.post<JobRecord>(
            '/v1/jobs',
            {
              type: 'completion',
              request: {
                model,
                messages: [
                  { role: 'system', content: 'a cached secret system prompt' },
                  { role: 'user', content: prompt },
                ],
              },
            },
            { prefer: 'wait=10' },
          )
        ).body;
      await job(); // the first answer writes the system prompt to the provider's cache
      const res = await job();
      expect(res.status).toBe('succeeded');
      const run = await until('the attempt span', () =>
        exporter
          .getFinishedSpans()
          .find(
            (s) => s.name.startsWith('switchyard.attempt') && s.attributes['switchyard.job_id'] === res.id,
          ),
      );
      const usage = res.result?.type === 'completion' ? res.result.usage : undefined;
      expect(run.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': provider,
        'gen_ai.system': provider,
        'gen_ai.request.model': model,
        'gen_ai.response.model': upstream,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': usage?.input_tokens,
        'gen_ai.usage.output_tokens': usage?.output_tokens,
        'switchyard.tenant_id': expect.any(String),
        'switchyard.lane': 'batch',
        'switchyard.attempt': 1,
        'switchyard.outcome': 'ok',
        'switchyard.cost_nanos': res.cost.nano_usd,
      });
      if (provider === 'anthropic') {
        // The second answer read the system prompt from the cache; reasoning is counted apart.
        expect(run.attributes['gen_ai.usage.cache_read.input_tokens']).toBe(usage?.cached_input_tokens);
        expect(run.attributes['gen_ai.usage.cache_read.input_tokens']).toBeGreaterThan(0);
        expect(run.attributes['switchyard.usage.reasoning_tokens']).toBe(3);
      }
      expect(JSON.stringify([run.attributes, run.events])).not.toMatch(/secret|night train|demo answer/);
    },
  );
});
