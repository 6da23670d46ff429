import type { JobData, JobReturn } from '@switchyard/jobs';
import type { Job } from 'bullmq';
import { acquireEgress } from './acquire-egress.ts';
import { awaitHost } from './await-host.ts';
import { checkBeforeRun } from './before-run.ts';
import { callUpstream } from './call-upstream.ts';
import type { ProcessorDeps } from './deps.ts';
import { JobRun } from './job-run.ts';
import { recordFailure, recordSuccess } from './record-attempt.ts';
import { answerFromCache, storeAnswer } from './reuse-answer.ts';
import { reuseStoredScrape, storeForReuse } from './reuse-scrape.ts';
import { settle } from './settle.ts';
import { whileStoreFull } from './store-full.ts';
import { numberAttempt, startAttempt } from './start-attempt.ts';

/**
 * A completion on one model that goes straight out cannot be delayed between the cancel check and
 * its attempt (no lease to be refused, no host to wait for, no fallback to look up), so its
 * numbering is sent with the cancel check: one round trip for both. A job that ends at the check
 * (canceled, or past its deadline) gives its number back, so `attempts` counts attempts made.
 */
function numbersAtOnce(run: JobRun): boolean {
  return (
    run.spec.type === 'completion' &&
    run.models.length === 1 &&
    !run.deps.egress.viaPool(run.spec, run.modelAt(0))
  );
}

/**
 * The BullMQ processor. One run of a job is at most one upstream attempt, in named steps:
 * `checkBeforeRun` (with `numberAttempt` when `numbersAtOnce`) → (`reuseStoredScrape`,
 * `answerFromCache`) → `awaitHost` (scrapes) around `acquireEgress` → `startAttempt` →
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
    // A full Redis holds each step that writes where it is (whileStoreFull), never fails the job.
    const number = () => whileStoreFull(run, () => numberAttempt(run), signal);
    const numbering = numbersAtOnce(run) ? number() : undefined;
    // Its failure is thrown where it is awaited (a job that ends at the check never awaits it).
    numbering?.catch(() => undefined);
    await checkBeforeRun(run).catch(async (err: unknown) => {
      if (numbering) await numbering.then(() => this.deps.attempts.unstart(run.jobId)).catch(() => undefined);
      throw err;
    });
    const reused = (await reuseStoredScrape(run)) ?? (await answerFromCache(run, numbering));
    if (reused) return reused;
    const acquire = () => whileStoreFull(run, () => acquireEgress(run, token), signal);
    const grant = await whileStoreFull(run, () => awaitHost(run, token, acquire), signal);
    const started = numbering ?? number();
    const attempt = await whileStoreFull(run, () => startAttempt(run, grant, signal, started), signal);
    try {
      const out = await callUpstream(attempt);
      await storeForReuse(run, out);
      await storeAnswer(attempt, out);
      return await recordSuccess(attempt, out);
    } catch (err) {
      const failure = await recordFailure(attempt, err);
      throw await settle(attempt, failure);
    } finally {
      attempt.end();
    }
  };
}
