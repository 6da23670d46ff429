import type { Outcome } from '@switchyard/contracts';

/** Everything the decision depends on; no clocks or randomness are read inside. */
export interface RetryInput {
  outcome: Exclude<Outcome, 'ok'>;
  /** The attempt that just ended, 1-based, counted on the current model. */
  attempt: number;
  /** Attempts allowed per model. */
  maxAttempts: number;
  /** A fallback model is left to move to. */
  hasFallback: boolean;
  /** From the upstream's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
  now: number;
  deadline: number;
  /** First backoff step; doubles each attempt. */
  backoffMs: number;
  /** A number in [0, 1) for jitter. */
  random: number;
  /**
   * The next attempt can leave through another egress identity (a pool proxy). Then a rate limit,
   * block or proxy fault is retried at once elsewhere: the pool itself keeps the offending
   * (proxy, host) pair cooling for the Retry-After, and delays the job if no identity is left.
   */
  egressRotates: boolean;
}

export type RetryDecision =
  | { action: 'retry'; delayMs: number; newEgress: boolean }
  | { action: 'fallback' }
  | { action: 'fail'; reason: 'not_retryable' | 'attempts_exhausted' | 'deadline' };

/** Outcomes that say "this identity is the problem": the retry must leave through another one. */
const ROTATE: ReadonlySet<Outcome> = new Set(['rate_limited', 'blocked', 'proxy_fault']);
const NEVER_RETRY: ReadonlySet<Outcome> = new Set(['client_fault', 'canceled']);
const MAX_BACKOFF_MS = 60_000;

/**
 * The retry authority: the only place that decides whether a failed attempt runs again, on the
 * same model or the next fallback. BullMQ carries the decision out (delayed retry or failure);
 * undici and providers never retry. A client fault (the request itself is wrong) is final.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  if (NEVER_RETRY.has(input.outcome)) return { action: 'fail', reason: 'not_retryable' };
  if (input.now >= input.deadline) return { action: 'fail', reason: 'deadline' };
  if (input.attempt >= input.maxAttempts) {
    return input.hasFallback ? { action: 'fallback' } : { action: 'fail', reason: 'attempts_exhausted' };
  }
  const exp = Math.min(MAX_BACKOFF_MS, input.backoffMs * 2 ** (input.attempt - 1));
  const jittered = Math.round(exp / 2 + (exp / 2) * input.random);
  const rotate = ROTATE.has(input.outcome);
  const delayMs =
    rotate && input.egressRotates
      ? 0
      : input.retryAfterMs !== undefined
        ? Math.max(input.retryAfterMs, 0)
        : jittered;
  if (input.now + delayMs >= input.deadline) {
    // No retry of this model fits before the deadline; another model can be asked at once.
    return input.hasFallback ? { action: 'fallback' } : { action: 'fail', reason: 'deadline' };
  }
  return { action: 'retry', delayMs, newEgress: rotate };
}
