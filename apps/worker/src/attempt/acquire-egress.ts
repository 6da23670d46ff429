import { DelayedError } from 'bullmq';
import type { EgressGrant } from '../egress.ts';
import { decideNoEgress } from '../retry-authority.ts';
import type { JobRun } from './job-run.ts';

/**
 * Step 2: the way out for the model in use (direct, or a leased pool proxy). An exhausted pool
 * delays the job until it expects capacity, without burning an attempt.
 */
export async function acquireEgress(run: JobRun, token: string | undefined): Promise<EgressGrant> {
  const { deps, jobId, spec } = run;
  // The model in use decides the egress and host; only jobs with fallbacks can be past the first.
  const current = run.models.length > 1 ? await deps.attempts.modelIndex(jobId) : 0;
  const grant = await deps.egress.acquire(spec, run.modelAt(current));
  if (!('exhausted' in grant)) return grant;
  const { retryAfterMs, reason } = grant;
  const decision = decideNoEgress({ retryAfterMs, reason, now: Date.now(), deadline: run.deadline });
  if (decision.action === 'fail') throw await run.fail(decision);
  deps.metrics?.delayedForEgress.inc({ lane: spec.lane, reason });
  // Debug, not info: a paced host delays its jobs many times each (every wait is one delay); the
  // metric counts every one of them.
  deps.logger.debug({ jobId, lane: spec.lane, reason, retryAfterMs }, 'egress pool exhausted; job delayed');
  await run.job.moveToDelayed(decision.until, token);
  await deps.delays?.note(spec.lane, 'egress', jobId, decision.until);
  throw new DelayedError();
}
