import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { JobRecord } from '@switchyard/contracts';
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

beforeAll(async () => {
  tracing = await startTracing('e2e', { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  t = await startTestStack();
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
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
});
