import { isStoreFull } from '@switchyard/jobs';
/** A failure the retry authority chose to retry; BullMQ's backoff strategy reads the delay. */
export class RetryableAttemptError extends Error {
  readonly retryDelayMs: number;
  constructor(message: string, retryDelayMs: number) {
    super(message);
    this.name = 'RetryableAttemptError';
    this.retryDelayMs = retryDelayMs;
  }
}

/** How long a job waits when Redis was too full to take its result. */
export const STORE_FULL_RETRY_MS = 5_000;

/**
 * BullMQ `settings.backoffStrategy`: the authority's delay; anything else is not retried, except
 * a job whose finish Redis refused for memory (BullMQ then fails it with that refusal): it runs
 * again once memory frees, as a new attempt, rather than being lost.
 */
export function backoffStrategy(_attemptsMade: number, _type?: string, err?: Error): number {
  if (err instanceof RetryableAttemptError) return err.retryDelayMs;
  return isStoreFull(err) ? STORE_FULL_RETRY_MS : -1;
}
