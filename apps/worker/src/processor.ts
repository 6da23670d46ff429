import type { CompletionJobSpec, JobSpec, ScrapeJobSpec } from '@switchyard/contracts';
import type { TenantLoad } from '@switchyard/admission';
import { formatFailure, type JobData, type JobReturn } from '@switchyard/jobs';
import { SpanKind, SpanStatusCode, startSpan, type Logger } from '@switchyard/telemetry';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { AttemptState } from './attempt-state.ts';
import type { DeltaRelay } from './delta-relay.ts';
import { classify } from './classify.ts';
import type { Egress } from './egress.ts';
import type { AttemptContext, AttemptSuccess } from './executors/types.ts';
import type { AttemptEntry as AttemptRecord, Ledger } from '@switchyard/ledger';
import type { WorkerMetrics } from './metrics.ts';
import { decideRetry } from './retry-authority.ts';
import type { RetryBudget } from './retry-budget.ts';

/** A failure the retry authority chose to retry; BullMQ's backoff strategy reads the delay. */
export class RetryableAttemptError extends Error {
  readonly retryDelayMs: number;
  constructor(message: string, retryDelayMs: number) {
    super(message);
    this.name = 'RetryableAttemptError';
    this.retryDelayMs = retryDelayMs;
  }
}

/** BullMQ `settings.backoffStrategy`: only the authority's delay; anything else is not retried. */
export function backoffStrategy(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryableAttemptError ? err.retryDelayMs : -1;
}

export interface ProcessorDeps {
  logger: Logger;
  backoffMs: number;
  maxAttempts: number;
  completion: (spec: CompletionJobSpec, ctx: AttemptContext, model: string) => Promise<AttemptSuccess>;
  scrape: (spec: ScrapeJobSpec, ctx: AttemptContext) => Promise<AttemptSuccess>;
  /** The egress for an attempt (direct, or the proxy pool). */
  egressFor: (spec: JobSpec, model: string | null) => Egress;
  /** The host an attempt calls. */
  hostOf: (spec: JobSpec, model: string | null) => string;
  providerOf: (model: string) => string | null;
  isCanceled: (jobId: string) => Promise<boolean>;
  attempts: AttemptState;
  budget: RetryBudget;
  /** Where attempts are written; idempotent by (job id, attempt). */
  ledger: Pick<Ledger, 'record'>;
  metrics?: WorkerMetrics;
  /** Per-tenant job limits: a job stops counting as queued when its first attempt starts. */
  load?: Pick<TenantLoad, 'started'>;
  /** For streaming jobs: where deltas and the final event go (the API relays them as SSE). */
  relayFor: (jobId: string, attempt: number) => DeltaRelay;
  random?: () => number;
  now?: () => number;
}

const fail = (code: string, message: string) => new UnrecoverableError(formatFailure(code, message));
const modelsOf = (spec: JobSpec) =>
  spec.type === 'completion' ? [spec.request.model, ...(spec.fallbacks ?? [])] : [null];

/**
 * One BullMQ run of a job = at most one upstream attempt: acquire egress (an exhausted pool
 * delays the job without burning an attempt), number the attempt, call, release the egress with
 * the outcome, write the attempt to the ledger, and let the retry authority decide.
 */
export function createProcessor(deps: ProcessorDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  return async (job: Job<JobData, JobReturn>, token?: string, signal?: AbortSignal): Promise<JobReturn> => {
    const { spec, deadline, tenantId } = job.data;
    const jobId = job.id ?? '';
    const models = modelsOf(spec);
    const streaming = job.data.stream === true;
    /** A final failure; a streaming client hears it before BullMQ records it. */
    const terminal = async (code: string, message: string, attempt = 0) => {
      if (streaming) await deps.relayFor(jobId, attempt).fail(code, message);
      return fail(code, message);
    };
    if (await deps.isCanceled(jobId)) throw await terminal('canceled', 'the job was canceled before it ran');
    if (now() >= deadline)
      throw await terminal('deadline_exceeded', 'the deadline passed before the job could run');

    // The model in use decides the egress and host; only jobs with fallbacks can be past the first.
    const current = models.length > 1 ? await deps.attempts.modelIndex(jobId) : 0;
    const egressModel = models[Math.min(current, models.length - 1)] ?? null;
    const egress = deps.egressFor(spec, egressModel);
    const grant = await egress.acquire({
      spec,
      lane: spec.lane,
      model: egressModel,
      host: deps.hostOf(spec, egressModel),
    });
    if ('exhausted' in grant) {
      const at = now() + grant.retryAfterMs;
      if (at >= deadline)
        throw await terminal('deadline_exceeded', `no egress capacity before the deadline (${grant.reason})`);
      deps.metrics?.delayedForEgress.inc({ lane: spec.lane, reason: grant.reason });
      deps.logger.info(
        { jobId, lane: spec.lane, reason: grant.reason, retryAfterMs: grant.retryAfterMs },
        'egress pool exhausted; job delayed',
      );
      await job.moveToDelayed(at, token);
      throw new DelayedError();
    }

    const started = now();
    const { n, modelIndex, modelAttempt } = await deps.attempts.start(jobId);
    const model = models[Math.min(modelIndex, models.length - 1)] ?? null;
    const entry = (fields: Partial<AttemptRecord>): AttemptRecord => ({
      jobId,
      attempt: n,
      tenantId,
      lane: spec.lane,
      kind: spec.type,
      provider: model ? deps.providerOf(model) : null,
      model,
      proxyId: grant.proxyId ?? null,
      outcome: 'ok',
      interrupted: false,
      latencyMs: 0,
      inputTokens: 0,
      outputTokens: 0,
      bytes: 0,
      costNanos: 0,
      at: started,
      ...fields,
    });
    if (n === 1) {
      deps.budget.countFirst();
      void deps.load
        ?.started(tenantId, jobId)
        .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'tenant load update failed'));
    }
    // A re-run after a crash: the previous attempt left no entry, so record it as interrupted
    // (idempotent: a recorded attempt is not overwritten).
    if (n > 1)
      await deps.ledger.record(
        entry({ attempt: n - 1, outcome: 'upstream_fault', interrupted: true, proxyId: null }),
      );
    const log = deps.logger.child({
      jobId,
      type: spec.type,
      lane: spec.lane,
      attempt: n,
      model,
      proxyId: grant.proxyId,
    });
    if (n > deps.maxAttempts * models.length) {
      await grant.release({ outcome: 'canceled', bytes: 0 });
      throw await terminal('internal_job_error', 'the job was interrupted on its last allowed attempt', n);
    }

    const relay = streaming ? deps.relayFor(jobId, n) : undefined;
    const ctx: AttemptContext = {
      signal: signal ?? new AbortController().signal,
      dispatcher: grant.dispatcher,
      onDelta: relay ? (text) => relay.delta(text) : undefined,
    };
    // One span per attempt, in the trace of the request that submitted the job (ids and
    // outcomes only: no prompt, URL or body).
    const span = startSpan(`switchyard.attempt ${spec.type}`, {
      kind: SpanKind.CLIENT,
      parent: job.data.trace,
      attributes: {
        'switchyard.job_id': jobId,
        'switchyard.tenant_id': tenantId,
        'switchyard.lane': spec.lane,
        'switchyard.attempt': n,
        ...(model ? { 'gen_ai.request.model': model } : {}),
        ...(grant.proxyId ? { 'switchyard.proxy_id': grant.proxyId } : {}),
      },
    });
    const observe = (outcome: string) => {
      const labels = { lane: spec.lane, kind: spec.type, outcome };
      deps.metrics?.attempts.inc(labels);
      deps.metrics?.attemptSeconds.observe(labels, (now() - started) / 1000);
      span.setAttribute('switchyard.outcome', outcome);
      if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR });
    };
    try {
      const out =
        spec.type === 'completion'
          ? await deps.completion(spec, ctx, model ?? spec.request.model)
          : await deps.scrape(spec, ctx);
      await grant.release({ outcome: 'ok', bytes: out.bytes });
      const costNanos = out.costNanos + Math.round(out.bytes * grant.nanosPerByte);
      const usage =
        out.result.type === 'completion' ? out.result.usage : { input_tokens: 0, output_tokens: 0 };
      // The ledger answers the job's total over every attempt, failed ones included.
      const { jobCostNanos } = await deps.ledger.record(
        entry({
          latencyMs: now() - started,
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          bytes: out.bytes,
          costNanos,
        }),
      );
      observe('ok');
      span.setAttribute('switchyard.cost_nanos', costNanos);
      if (relay && out.result.type === 'completion') {
        await relay.done({
          model: out.result.model,
          finishReason: out.result.finish_reason,
          inputTokens: usage.input_tokens,
          outputTokens: usage.output_tokens,
          costNanos: jobCostNanos,
        });
      }
      log.debug(
        { outcome: 'ok', latencyMs: now() - started, bytes: out.bytes, costNanos },
        'attempt succeeded',
      );
      return { result: out.result, costNanos: jobCostNanos };
    } catch (err) {
      const canceled = ctx.signal.aborted && (await deps.isCanceled(jobId));
      const c = classify(err, { canceled, viaProxy: grant.viaProxy });
      // An error nothing recognised is a bug or a case to teach the classifier: keep its details.
      if (c.code === 'internal_job_error') log.error({ err }, 'unclassified attempt failure');
      await grant.release({ outcome: c.outcome, bytes: 0, retryAfterMs: c.retryAfterMs });
      await deps.ledger.record(entry({ outcome: c.outcome, latencyMs: now() - started }));
      observe(c.outcome);
      let decision =
        c.outcome === 'canceled'
          ? ({ action: 'fail', reason: 'not_retryable' } as const)
          : decideRetry({
              outcome: c.outcome,
              attempt: modelAttempt,
              maxAttempts: deps.maxAttempts,
              hasFallback: modelIndex + 1 < models.length,
              retryAfterMs: c.retryAfterMs,
              now: now(),
              deadline,
              backoffMs: deps.backoffMs,
              random: random(),
              egressRotates: grant.viaProxy,
            });
      if (relay && relay.sent > 0) {
        // The client already holds part of this answer: another attempt would splice two answers.
        throw await terminal(c.code, `${c.message} (the stream was cut after ${relay.sent} deltas)`, n);
      }
      if (decision.action !== 'fail' && !(await deps.budget.allowRetry())) {
        log.warn({ outcome: c.outcome, code: c.code }, 'retry budget spent; failing instead of retrying');
        throw await terminal(
          'retry_budget_exhausted',
          `${c.message}; the fleet-wide retry budget is spent`,
          n,
        );
      }
      log.warn({ outcome: c.outcome, code: c.code, latencyMs: now() - started, decision }, 'attempt failed');
      if (decision.action === 'fallback') {
        await deps.attempts.nextModel(jobId);
        decision = { action: 'retry', delayMs: 0, newEgress: false };
      }
      if (decision.action === 'retry') {
        await relay?.retry();
        throw new RetryableAttemptError(formatFailure(c.code, c.message), decision.delayMs);
      }
      const why = decision.reason === 'deadline' ? ' (no retry fits before the deadline)' : '';
      throw await terminal(c.code, `${c.message}${why}`, n);
    } finally {
      span.end();
    }
  };
}
