import type { JobReturn } from '@switchyard/jobs';
import { classify, type Classified } from '../classify.ts';
import type { AttemptSuccess } from '../executors/types.ts';
import type { Attempt } from './attempt.ts';
import { whileStoreFull } from './store-full.ts';

/**
 * Step 5, after a success: the egress is released first (the pool learns the outcome), then the
 * attempt is written to the ledger, which answers the job's total over every attempt.
 */
export async function recordSuccess(attempt: Attempt, out: AttemptSuccess): Promise<JobReturn> {
  const { grant, run, relay } = attempt;
  await grant.release({ outcome: 'ok', bytes: out.bytes });
  const costNanos = out.costNanos + Math.round(out.bytes * grant.nanosPerByte);
  const usage = out.result.type === 'completion' ? out.result.usage : { input_tokens: 0, output_tokens: 0 };
  const entry = attempt.entry({
    latencyMs: attempt.elapsedMs(),
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    bytes: out.bytes,
    costNanos,
  });
  // The upstream answered: a full Redis holds the answer until it can be written (idempotent).
  const { jobCostNanos } = await whileStoreFull(run, () => run.deps.ledger.record(entry));
  attempt.observe('ok');
  attempt.span.setAttribute('switchyard.cost_nanos', costNanos);
  if (relay && out.result.type === 'completion') {
    await relay.done({
      model: out.result.model,
      finishReason: out.result.finish_reason,
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens,
      costNanos: jobCostNanos,
    });
  }
  const latencyMs = attempt.elapsedMs();
  attempt.log.debug({ outcome: 'ok', latencyMs, bytes: out.bytes, costNanos }, 'attempt succeeded');
  return { result: out.result, costNanos: jobCostNanos, attempts: attempt.n };
}

/**
 * Step 5, after a failure: `classify` names the outcome (a cancel is told apart from a timeout
 * by the job's cancel flag), the egress is released with it, and the attempt is written to the
 * ledger.
 */
export async function recordFailure(attempt: Attempt, err: unknown): Promise<Classified> {
  const { grant, run } = attempt;
  const canceled = attempt.ctx.signal.aborted && (await run.deps.cancels.isCanceled(run.jobId));
  const failure = classify(err, { canceled, viaProxy: grant.viaProxy });
  // An error nothing recognised is a bug or a case to teach the classifier: keep its details.
  if (failure.code === 'internal_job_error') attempt.log.error({ err }, 'unclassified attempt failure');
  await grant.release({ outcome: failure.outcome, bytes: 0, retryAfterMs: failure.retryAfterMs });
  const entry = attempt.entry({ outcome: failure.outcome, latencyMs: attempt.elapsedMs() });
  await whileStoreFull(run, () => run.deps.ledger.record(entry));
  attempt.observe(failure.outcome);
  return failure;
}
