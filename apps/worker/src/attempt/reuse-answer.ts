import type { CompletionResult } from '@switchyard/contracts';
import type { JobReturn } from '@switchyard/jobs';
import type { AttemptStart } from '../attempt-state.ts';
import type { AttemptSuccess } from '../executors/types.ts';
import { ledgerEntry, type Attempt, type AttemptSlot } from './attempt.ts';
import type { JobRun } from './job-run.ts';
import { numberAttempt, recordInterrupted } from './start-attempt.ts';

/** A streaming client gets the stored answer as a stream: its content, then the final event. */
async function replay(run: JobRun, n: number, result: CompletionResult, jobCostNanos: number): Promise<void> {
  const relay = run.deps.relays.open(run.jobId, n);
  if (result.message.content) relay.delta(result.message.content);
  await relay.done({
    model: result.model,
    finishReason: result.finish_reason,
    inputTokens: result.usage.input_tokens,
    outputTokens: result.usage.output_tokens,
    costNanos: jobCostNanos,
    cached: true,
  });
}

/**
 * Step 1c, for completions the response cache covers (`cachePolicy`), before their first attempt:
 * this tenant's stored answer to the same request ends the job here, with `cached: true`, no
 * egress and no upstream call. The ledger gets the attempt as `cache_hit` at $0, with what the
 * answer cost when it was made as the day's saving; a streaming client gets it replayed as a
 * stream. The attempt is numbered only on a hit (`numbering` when it was sent early). A cache that
 * cannot be read is a miss.
 */
export async function answerFromCache(
  run: JobRun,
  numbering: Promise<AttemptStart> | undefined,
): Promise<JobReturn | undefined> {
  const { deps, spec, jobId } = run;
  const cache = deps.completionCache;
  // A job that already made a failed attempt is past its lookup: it goes on with its retries.
  if (spec.type !== 'completion' || !cache || run.job.attemptsMade > 0) return undefined;
  const policy = cache.policy(spec);
  if (!policy) return undefined;
  const stored = await cache.get(run.tenantId, spec, policy).catch((err: unknown) => {
    deps.logger.warn({ err, jobId }, 'response cache unavailable; asking the model');
    return undefined;
  });
  if (!stored) return undefined;
  const numbered = await (numbering ?? numberAttempt(run));
  const model = spec.request.model;
  const slot: AttemptSlot = { ...numbered, model, proxyId: null, started: Date.now() };
  if (slot.n > 1) await recordInterrupted(run, slot);
  const { jobCostNanos } = await deps.ledger.record(ledgerEntry(run, slot, { outcome: 'cache_hit' }), {
    savedNanos: stored.costNanos,
  });
  const result: CompletionResult = { ...stored.result, cached: true };
  if (run.streaming) await replay(run, slot.n, result, jobCostNanos);
  // Not in `switchyard_attempts_total`: that counts upstream attempts, and a hit made none.
  deps.logger.debug({ jobId, lane: spec.lane, model }, 'completion answered from the response cache');
  return { result, costNanos: jobCostNanos, attempts: slot.n };
}

/**
 * After a successful attempt: a completion the cache covers leaves its answer for the next same
 * request, when the requested model made it (a fallback's answer is not the requested model's).
 */
export async function storeAnswer(attempt: Attempt, out: AttemptSuccess): Promise<void> {
  const { run } = attempt;
  const { deps, spec, jobId } = run;
  const policy = spec.type === 'completion' ? deps.completionCache?.policy(spec) : undefined;
  if (!policy || spec.type !== 'completion' || out.result.type !== 'completion' || attempt.modelIndex !== 0)
    return;
  const costNanos = out.costNanos + Math.round(out.bytes * attempt.grant.nanosPerByte);
  await deps.completionCache
    ?.put(run.tenantId, spec, policy, { at: Date.now(), result: out.result, costNanos })
    .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'answer not stored in the response cache'));
}
