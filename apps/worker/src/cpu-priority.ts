import type { Config } from '@switchyard/config';
import type { Logger } from '@switchyard/telemetry';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the CPU priority of a worker process that serves only the batch lane to
 * `worker.batchNice` (ADR 0027): when the host's cores are contended, the scheduler then runs the
 * interactive lane's workers, the API and Redis first, and the batch lane takes what is left.
 * Nice values are per thread on Linux, so every thread the process has is lowered (V8's and
 * libuv's; threads started later, such as the extraction pool's, inherit the value); elsewhere
 * the call applies to the whole process. Raising a nice value needs no privilege. Returns the
 * value applied, or undefined when nothing changed.
 */
export function lowerBatchPriority(config: Config, logger: Logger): number | undefined {
  const nice = config.worker.batchNice;
  const lanes = config.worker.lanes;
  if (nice === 0 || lanes.includes('interactive')) return undefined;
  try {
    for (const id of threadIds()) setPriority(id, nice);
  } catch (err) {
    logger.warn({ err, nice }, 'could not lower the batch worker’s CPU priority (worker.batchNice)');
    return undefined;
  }
  return nice;
}

/** This process's threads (Linux's /proc/self/task); elsewhere 0, the process itself. */
function threadIds(): number[] {
  if (process.platform !== 'linux') return [0];
  return readdirSync('/proc/self/task').map(Number);
}
