import { decideBeforeRun } from '../retry-authority.ts';
import type { JobRun } from './job-run.ts';

/** Step 1: a job canceled, or past its deadline, ends before anything is spent on it. */
export async function checkBeforeRun(run: JobRun): Promise<void> {
  const canceled = await run.deps.cancels.isCanceled(run.jobId);
  const decision = decideBeforeRun({ canceled, now: Date.now(), deadline: run.deadline });
  if (decision.action === 'fail') throw await run.fail(decision);
}
