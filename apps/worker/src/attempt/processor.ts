import type { JobData, JobReturn } from '@switchyard/jobs';
import type { Job } from 'bullmq';
import { acquireEgress } from './acquire-egress.ts';
import { awaitHost } from './await-host.ts';
import { checkBeforeRun } from './before-run.ts';
import { callUpstream } from './call-upstream.ts';
import type { ProcessorDeps } from './deps.ts';
import { JobRun } from './job-run.ts';
import { recordFailure, recordSuccess } from './record-attempt.ts';
import { reuseStoredScrape, storeForReuse } from './reuse-scrape.ts';
import { settle } from './settle.ts';
import { startAttempt } from './start-attempt.ts';

/**
 * The BullMQ processor. One run of a job is at most one upstream attempt, in named steps:
 * `checkBeforeRun` → (`reuseStoredScrape`) → `awaitHost` (scrapes) around `acquireEgress` → `startAttempt` →
 * `callUpstream` → `recordSuccess`, or
 * `recordFailure` → `settle`, where the retry authority decides what happens next.
 */
export class AttemptProcessor {
  private readonly deps: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.deps = deps;
  }

  /** Passed to BullMQ's Worker; it hands over the lock token and the job's abort signal. */
  readonly process = async (
    job: Job<JobData, JobReturn>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<JobReturn> => {
    const run = new JobRun(job, this.deps);
    await checkBeforeRun(run);
    const reused = await reuseStoredScrape(run);
    if (reused) return reused;
    const grant = await awaitHost(run, token, () => acquireEgress(run, token));
    const attempt = await startAttempt(run, grant, signal);
    try {
      const out = await callUpstream(attempt);
      await storeForReuse(run, out);
      return await recordSuccess(attempt, out);
    } catch (err) {
      const failure = await recordFailure(attempt, err);
      throw await settle(attempt, failure);
    } finally {
      attempt.end();
    }
  };
}
