import type { AttemptSuccess } from '../executors/types.ts';
import type { Attempt } from './attempt.ts';

/**
 * Step 4: the one upstream call of the attempt, through its egress, on the model in use. It
 * never retries: a failure goes to `recordFailure` and `settle`.
 */
export function callUpstream(attempt: Attempt): Promise<AttemptSuccess> {
  return attempt.run.deps.upstreams.call(attempt.run.spec, attempt.ctx, attempt.model);
}
