import { isStoreFull } from '@switchyard/jobs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRun } from './job-run.ts';

const FIRST_WAIT_MS = 250;
const MAX_WAIT_MS = 5_000;

/**
 * Runs `step` again while Redis refuses it for memory (`maxmemory` under `noeviction`: the step's
 * script or command wrote nothing), waiting longer each time, so a full Redis holds a job where it
 * is instead of failing it; memory frees as other jobs finish and expire. The job keeps its BullMQ
 * lock meanwhile (extending a lock is a PEXPIRE, which Redis allows when full). Gives up with the
 * refusal at the job's deadline or when the job is aborted. Only for steps that are safe to repeat
 * after a refusal: atomic scripts, idempotent writes.
 */
export async function whileStoreFull<T>(
  run: JobRun,
  step: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    try {
      return await step();
    } catch (err) {
      if (!isStoreFull(err) || signal?.aborted || Date.now() + wait > run.deadline) throw err;
      run.deps.logger.warn({ jobId: run.jobId, waitMs: wait }, 'redis is out of memory; the job waits');
      await sleep(wait);
    }
  }
}
