import type { CompletionResult, Usage } from '@switchyard/contracts';
import { modelKey, type AttemptEntry } from '@switchyard/ledger';
import { SpanKind, SpanStatusCode, startSpan, type Logger, type Span } from '@switchyard/telemetry';
import type { AttemptStart } from '../attempt-state.ts';
import type { DeltaRelay } from '../delta-relay.ts';
import type { EgressGrant } from '../egress.ts';
import type { AttemptContext } from '../executors/types.ts';
import type { JobRun } from './job-run.ts';

/** Where an attempt sits in its job: its numbers, its model, its proxy and when it started. */
export interface AttemptSlot extends AttemptStart {
  model: string | null;
  proxyId: string | null;
  started: number;
}

/** The ledger entry of an attempt of `run` (idempotent by job id and attempt number). */
export function ledgerEntry(run: JobRun, slot: AttemptSlot, fields: Partial<AttemptEntry>): AttemptEntry {
  const { model } = slot;
  return {
    jobId: run.jobId,
    attempt: slot.n,
    tenantId: run.tenantId,
    lane: run.spec.lane,
    kind: run.spec.type,
    provider: model ? run.deps.upstreams.providerOf(model) : null,
    model,
    proxyId: slot.proxyId,
    outcome: 'ok',
    interrupted: false,
    latencyMs: 0,
    inputTokens: 0,
    outputTokens: 0,
    bytes: 0,
    costNanos: 0,
    at: slot.started,
    ...fields,
  };
}

/**
 * One numbered attempt, from its call to its settling: the egress it holds, the relay a streaming
 * client reads, its span (in the trace of the request that submitted the job) and its log.
 */
export class Attempt implements AttemptSlot {
  readonly run: JobRun;
  readonly grant: EgressGrant;
  readonly n: number;
  readonly modelIndex: number;
  readonly modelAttempt: number;
  readonly model: string | null;
  readonly proxyId: string | null;
  readonly started: number;
  readonly log: Logger;
  /** Set for streaming jobs: where this attempt's deltas and final event go. */
  readonly relay: DeltaRelay | undefined;
  readonly ctx: AttemptContext;
  readonly span: Span;

  constructor(run: JobRun, grant: EgressGrant, slot: AttemptSlot, signal: AbortSignal | undefined) {
    const { spec, jobId } = run;
    this.run = run;
    this.grant = grant;
    const { n, model } = slot;
    this.n = n;
    this.modelIndex = slot.modelIndex;
    this.modelAttempt = slot.modelAttempt;
    this.model = model;
    this.proxyId = slot.proxyId;
    this.started = slot.started;
    this.log = run.deps.logger.child({
      jobId,
      type: spec.type,
      lane: spec.lane,
      attempt: n,
      model,
      proxyId: grant.proxyId,
    });
    const relay = run.streaming ? run.deps.relays.open(jobId, n) : undefined;
    this.relay = relay;
    this.ctx = {
      signal: signal ?? new AbortController().signal,
      dispatcher: grant.dispatcher,
      onDelta: relay ? (text) => relay.delta(text) : undefined,
      beforeSend: grant.beforeSend,
    };
    const provider = model ? run.deps.upstreams.providerOf(model) : null;
    // Ids, counts and outcomes only: no prompt, answer, URL or body. A completion's span carries
    // the OpenTelemetry GenAI semantic-convention attributes as well as Switchyard's own.
    this.span = startSpan(`switchyard.attempt ${spec.type}`, {
      kind: SpanKind.CLIENT,
      parent: run.job.data.trace,
      attributes: {
        'switchyard.job_id': jobId,
        'switchyard.tenant_id': run.tenantId,
        'switchyard.lane': spec.lane,
        'switchyard.attempt': n,
        ...(model ? { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model } : {}),
        ...(provider ? { 'gen_ai.provider.name': provider, 'gen_ai.system': provider } : {}),
        ...(grant.proxyId ? { 'switchyard.proxy_id': grant.proxyId } : {}),
      },
    });
  }

  /** This attempt's ledger entry. */
  entry(fields: Partial<AttemptEntry>): AttemptEntry {
    return ledgerEntry(this.run, this, fields);
  }

  /** Milliseconds since the attempt started. */
  elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** Counts the attempt in the metrics and marks its span with the outcome. */
  observe(outcome: string): void {
    const { metrics } = this.run.deps;
    const { lane, type: kind } = this.run.spec;
    // Grouped as the ledger groups usage: the configured model name, `(scrape)` for scrapes.
    const labels = { lane, kind, model: modelKey({ kind, model: this.model }), outcome };
    metrics?.attempts.inc(labels);
    metrics?.attemptSeconds.observe(labels, this.elapsedMs() / 1000);
    this.span.setAttribute('switchyard.outcome', outcome);
    if (outcome !== 'ok') this.span.setStatus({ code: SpanStatusCode.ERROR });
  }

  /**
   * Marks the span with the attempt's token counts (GenAI conventions: cached and cache-write
   * tokens are parts of the input count) and, after a success, the response model and finish reason.
   */
  observeUsage(usage: Usage, result: CompletionResult | undefined, estimated = false): void {
    this.span.setAttributes({
      'gen_ai.usage.input_tokens': usage.input_tokens,
      'gen_ai.usage.output_tokens': usage.output_tokens,
      'gen_ai.usage.cache_read.input_tokens': usage.cached_input_tokens ?? 0,
      'gen_ai.usage.cache_creation.input_tokens': usage.cache_write_tokens ?? 0,
      'switchyard.usage.reasoning_tokens': usage.reasoning_tokens ?? 0,
      ...(estimated ? { 'switchyard.usage.estimated': true } : {}),
      ...(result
        ? {
            'gen_ai.response.model': result.upstream_model,
            ...(result.finish_reason ? { 'gen_ai.response.finish_reasons': [result.finish_reason] } : {}),
          }
        : {}),
    });
  }

  end(): void {
    this.span.end();
  }
}
