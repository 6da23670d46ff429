/** A failure the retry authority chose to retry; BullMQ's backoff strategy reads the delay. */
export class RetryableAttemptError extends Error {
  readonly retryDelayMs: number;
  constructor(message: string, retryDelayMs: number) {
    super(message);
    this.name = 'RetryableAttemptError';
    this.retryDelayMs = retryDelayMs;
  }
}

/** BullMQ `settings.backoffStrategy`: only the authority's delay; anything else is not retried. */
export function backoffStrategy(_attemptsMade: number, _type?: string, err?: Error): number {
  return err instanceof RetryableAttemptError ? err.retryDelayMs : -1;
}
