import { formatFailure } from '@switchyard/jobs';
import type { Classified } from '../classify.ts';
import { decideRetry, type RetryInput } from '../retry-authority.ts';
import type { Attempt } from './attempt.ts';
import { RetryableAttemptError } from './errors.ts';

/** A TLS failure through a proxy is retried once: the job's count of them (0 for anything else). */
async function tlsFailures(attempt: Attempt, failure: Classified): Promise<number> {
  if (failure.code !== 'upstream_tls_error' || !attempt.grant.viaProxy) return 0;
  return attempt.run.deps.attempts.countTlsFailure(attempt.run.jobId);
}

/**
 * Step 6, after a failure: the retry authority decides, and this carries the decision out. It
 * returns the error the processor throws: a final failure (a streaming client hears it first), or
 * a retry whose delay BullMQ's backoff strategy reads (after a fallback, on the next model).
 */
export async function settle(attempt: Attempt, failure: Classified): Promise<Error> {
  const { run, relay } = attempt;
  const { deps } = run;
  const input: RetryInput = {
    ...failure,
    attempt: attempt.modelAttempt,
    maxAttempts: deps.policy.maxAttempts,
    hasFallback: attempt.modelIndex + 1 < run.models.length,
    now: Date.now(),
    deadline: run.deadline,
    backoffMs: deps.policy.backoffMs,
    random: Math.random(),
    egressRotates: attempt.grant.viaProxy,
    streamDeltasSent: relay?.sent ?? 0,
    tlsFailures: await tlsFailures(attempt, failure),
    budgetAllows: undefined,
  };
  let decision = decideRetry(input);
  // Asking the budget counts a retry against it, so it is asked only when the job would run again.
  if (decision.action === 'ask_budget') {
    // Charged to the upstream that failed, on the tenant's share of it.
    const allowed = await deps.budget.allowRetry(run.budgetScope(attempt.model));
    deps.metrics?.retryBudget.inc({ lane: run.spec.lane, result: allowed ? 'allowed' : 'refused' });
    decision = decideRetry({ ...input, budgetAllows: allowed });
  }
  const { outcome, code } = failure;
  const spent = decision.action === 'fail' && decision.reason === 'retry_budget';
  // A spent budget names its upstream (`model:…` or `host:…`): which one is failing.
  const budget = spent ? run.budgetScope(attempt.model).upstream : undefined;
  attempt.log.warn(
    { outcome, code, latencyMs: attempt.elapsedMs(), decision, ...(budget && { budget }) },
    spent ? 'retry budget spent; failing instead of retrying' : 'attempt failed',
  );
  if (decision.action === 'fail') return run.fail(decision, attempt.n);
  if (decision.action === 'fallback') await deps.attempts.nextModel(run.jobId);
  await relay?.retry();
  return new RetryableAttemptError(formatFailure(code, failure.message), decision.delayMs);
}
