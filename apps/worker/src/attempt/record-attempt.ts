import type { JobReturn } from '@switchyard/jobs';
import type { AttemptEntry } from '@switchyard/ledger';
import { classify, poolOutcome, type Classified } from '../classify.ts';
import { estimateOf, type CostEstimate } from '../executors/completion.ts';
import { InvalidOutputError, type AttemptSuccess } from '../executors/types.ts';
import type { Attempt } from './attempt.ts';
import { whileStoreFull } from './store-full.ts';

/**
 * Step 5, after a success: the egress is released (the pool learns the outcome; nothing waits for
 * it, as the process's next lease goes to Redis after it on the same connection, and a release
 * that fails leaves a lease that expires on its own), then the attempt is written to the ledger,
 * which answers the job's total over every attempt.
 */
export async function recordSuccess(attempt: Attempt, out: AttemptSuccess): Promise<JobReturn> {
  const { grant, relay } = attempt;
  void grant
    .release({ outcome: 'ok', bytes: out.bytes })
    .catch((err: unknown) =>
      attempt.log.warn({ err }, 'egress release failed; its lease expires on its own'),
    );
  const costNanos = out.costNanos + Math.round(out.bytes * grant.nanosPerByte);
  const usage = out.result.type === 'completion' ? out.result.usage : { input_tokens: 0, output_tokens: 0 };
  const jobCostNanos = await writeSuccess(
    attempt,
    attempt.entry({
      latencyMs: attempt.elapsedMs(),
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cachedInputTokens: usage.cached_input_tokens,
      cacheWriteTokens: usage.cache_write_tokens,
      reasoningTokens: usage.reasoning_tokens,
      bytes: out.bytes,
      costNanos,
    }),
  );
  attempt.observe('ok');
  if (out.result.type === 'completion') attempt.observeUsage(usage, out.result);
  attempt.span.setAttribute('switchyard.cost_nanos', costNanos);
  if (relay && out.result.type === 'completion') {
    await relay.done({
      model: out.result.model,
      finishReason: out.result.finish_reason,
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      cachedInputTokens: usage.cached_input_tokens ?? 0,
      cacheWriteTokens: usage.cache_write_tokens ?? 0,
      reasoningTokens: usage.reasoning_tokens ?? 0,
      costNanos: jobCostNanos,
    });
  }
  const latencyMs = attempt.elapsedMs();
  attempt.log.debug({ outcome: 'ok', latencyMs, bytes: out.bytes, costNanos }, 'attempt succeeded');
  return { result: out.result, costNanos: jobCostNanos, attempts: attempt.n };
}

/**
 * Writes a successful attempt and answers the job's total. A job's first attempt is its only
 * one, so its total is its cost and the write goes ahead unawaited (`LedgerAhead`: it still
 * reaches Redis before the job's completion); a later attempt waits for the running total.
 */
async function writeSuccess(attempt: Attempt, entry: AttemptEntry): Promise<number> {
  const { ledger, ledgerAhead } = attempt.run.deps;
  if (attempt.n === 1 && ledgerAhead) {
    ledgerAhead.send(entry);
    return entry.costNanos;
  }
  // The upstream answered: a full Redis holds the answer until it can be written (idempotent).
  return (await whileStoreFull(attempt.run, () => ledger.record(entry))).jobCostNanos;
}

/** What a failed attempt cost for sure: an answer that failed the JSON guardrail was billed whole. */
function spentOn(attempt: Attempt, err: unknown) {
  if (!(err instanceof InvalidOutputError) || err.spent.result.type !== 'completion') return undefined;
  const { usage } = err.spent.result;
  const { bytes } = err.spent;
  const costNanos = err.spent.costNanos + Math.round(bytes * attempt.grant.nanosPerByte);
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cachedInputTokens: usage.cached_input_tokens,
    cacheWriteTokens: usage.cache_write_tokens,
    reasoningTokens: usage.reasoning_tokens,
    bytes,
    costNanos,
  };
}

/** The ledger fields of a cut stream's estimate. */
function estimatedSpend(estimate: CostEstimate) {
  return {
    inputTokens: estimate.usage.input_tokens,
    outputTokens: estimate.usage.output_tokens,
    costNanos: estimate.costNanos,
    estimated: true,
    bytes: 0,
  };
}

/**
 * Step 5, after a failure: `classify` names the outcome (a cancel is told apart from a timeout
 * by the job's cancel flag), the egress is released with it, and the attempt is written to the
 * ledger. An answer that failed the JSON guardrail keeps its tokens and cost in the ledger; for
 * the proxy pool it was a good exchange (`ok`, with its bytes).
 */
export async function recordFailure(attempt: Attempt, err: unknown): Promise<Classified> {
  const { grant, run } = attempt;
  const canceled = attempt.ctx.signal.aborted && (await run.deps.cancels.isCanceled(run.jobId));
  const failure = classify(err, { canceled, viaProxy: grant.viaProxy });
  // An error nothing recognised is a bug or a case to teach the classifier: keep its details.
  if (failure.code === 'internal_job_error') attempt.log.error({ err }, 'unclassified attempt failure');
  // A stream cut mid-answer is billed upstream: its estimated tokens are recorded, never $0.
  const estimate = estimateOf(err);
  const spent = spentOn(attempt, err) ?? (estimate && estimatedSpend(estimate));
  const { outcome, retryAfterMs } = failure;
  await grant.release({ outcome: poolOutcome(outcome), bytes: spent?.bytes ?? 0, retryAfterMs });
  const entry = attempt.entry({ outcome, latencyMs: attempt.elapsedMs(), ...spent });
  await whileStoreFull(run, () => run.deps.ledger.record(entry));
  attempt.observe(failure.outcome);
  if (estimate) {
    attempt.observeUsage(estimate.usage, undefined, true);
    attempt.span.setAttribute('switchyard.cost_nanos', estimate.costNanos);
  }
  return failure;
}
