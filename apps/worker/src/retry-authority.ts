import type { AttemptOutcome, ErrorCode } from '@switchyard/contracts';

/**
 * The retry authority: the only place that decides whether a job runs (again), on the same model
 * or the next fallback, waits, or ends in a final failure. Each function below is pure: every
 * clock reading, random number and Redis answer arrives in its input. BullMQ carries the decision
 * out (a delayed retry or a final failure); undici and providers never retry.
 */

/** Why a job ends. */
export type FailReason =
  | 'canceled'
  | 'not_retryable'
  | 'attempts_exhausted'
  | 'deadline'
  | 'stream_cut'
  | 'retry_budget'
  | 'invalid_output'
  | 'interrupted'
  | 'robots';

/** A final failure, with the code and message the job ends with (`formatFailure(code, message)`). */
export interface FailDecision {
  action: 'fail';
  reason: FailReason;
  code: ErrorCode;
  message: string;
}

/** Go on to the next step. */
export interface RunDecision {
  action: 'run';
}

const RUN: RunDecision = { action: 'run' };
const fail = (reason: FailReason, code: ErrorCode, message: string): FailDecision => ({
  action: 'fail',
  reason,
  code,
  message,
});

/** Before anything is spent on the job. */
export interface BeforeRunInput {
  /** The job's cancel flag is set. */
  canceled: boolean;
  now: number;
  deadline: number;
}

/** A job canceled, or past its deadline, before it ran ends here. */
export function decideBeforeRun(input: BeforeRunInput): RunDecision | FailDecision {
  if (input.canceled) return fail('canceled', 'canceled', 'the job was canceled before it ran');
  if (input.now >= input.deadline)
    return fail('deadline', 'deadline_exceeded', 'the deadline passed before the job could run');
  return RUN;
}

/** The egress (the proxy pool) had no identity for this attempt. */
export interface NoEgressInput {
  /** When the pool expects capacity, from now. */
  retryAfterMs: number;
  /** The pool's reason (`empty`, `cooling`...), quoted in the failure. */
  reason: string;
  now: number;
  deadline: number;
}

/** Wait, without burning an attempt, until `until` (epoch ms). */
export interface DelayDecision {
  action: 'delay';
  until: number;
}

/** An exhausted pool delays the job until it expects capacity, unless that is past the deadline. */
export function decideNoEgress(input: NoEgressInput): DelayDecision | FailDecision {
  const until = input.now + input.retryAfterMs;
  if (until >= input.deadline)
    return fail('deadline', 'deadline_exceeded', `no egress capacity before the deadline (${input.reason})`);
  return { action: 'delay', until };
}

/** A scrape's host cannot take a request now (per-host politeness): the job holds a ticket. */
export interface HostWaitInput {
  /** Until its ticket, from now. */
  waitMs: number;
  /** False when the host had no slot before the deadline (no ticket was taken). */
  beforeDeadline: boolean;
  /** Why (`interval`, `concurrency`, `paused`...), quoted in the failure. */
  reason: string;
  now: number;
  deadline: number;
}

/**
 * A host that must not be asked yet delays the job until its ticket, without spending an attempt
 * or holding a worker slot, unless no slot comes before the deadline.
 */
export function decideHostWait(input: HostWaitInput): DelayDecision | FailDecision {
  const until = input.now + input.waitMs;
  if (!input.beforeDeadline || until >= input.deadline)
    return fail(
      'deadline',
      'deadline_exceeded',
      `the host had no free slot before the deadline (${input.reason})`,
    );
  return { action: 'delay', until };
}

/** What the fleet's copy of the site's robots.txt says of the scrape URL. */
export interface RobotsInput {
  verdict: 'allowed' | 'disallowed' | 'unreachable' | 'unknown';
  /** With `unreachable`: when robots.txt is asked for again (epoch ms). */
  until?: number;
  /** The product token matched (`scrape.robots.userAgent`), quoted in the failure. */
  token: string;
  now: number;
  deadline: number;
}

/**
 * robots.txt first: a disallowed URL ends the job and is never requested; while robots.txt is
 * unreachable (5xx, 429, no answer) nothing is allowed, so the job waits for the next try without
 * spending an attempt. Allowed or not known yet (it is fetched next): go on.
 */
export function decideRobots(input: RobotsInput): RunDecision | DelayDecision | FailDecision {
  if (input.verdict === 'disallowed')
    return fail(
      'robots',
      'robots_disallowed',
      `the site's robots.txt disallows this URL for "${input.token}"`,
    );
  if (input.verdict !== 'unreachable') return RUN;
  const until = Math.max(input.until ?? input.now, input.now);
  if (until >= input.deadline)
    return fail(
      'deadline',
      'deadline_exceeded',
      "the site's robots.txt stayed unreachable until the deadline",
    );
  return { action: 'delay', until };
}

/** The attempt was just numbered. */
export interface StartInput {
  /** Number of this attempt over the whole job, 1-based. */
  attempt: number;
  /** Attempts allowed per model. */
  maxAttempts: number;
  /** The requested model and its fallbacks (1 for a scrape). */
  modelCount: number;
}

/**
 * A run numbered past the last allowed attempt is the re-run of a job whose worker died (or
 * stalled) on its last attempt: it ends here instead of calling upstream once more.
 */
export function decideStart(input: StartInput): RunDecision | FailDecision {
  if (input.attempt > input.maxAttempts * input.modelCount)
    return fail('interrupted', 'internal_job_error', 'the job was interrupted on its last allowed attempt');
  return RUN;
}

/** Everything the decision after a failed attempt depends on. */
export interface RetryInput {
  outcome: Exclude<AttemptOutcome, 'ok' | 'cache_hit'>;
  /** The job error code if this attempt ends the job. */
  code: ErrorCode;
  /** Our message for the failure (never an upstream body). */
  message: string;
  /** From the upstream's Retry-After, when it sent one. */
  retryAfterMs: number | undefined;
  /** The attempt that just ended, 1-based, counted on the current model. */
  attempt: number;
  /** Attempts allowed per model. */
  maxAttempts: number;
  /** A fallback model is left to move to. */
  hasFallback: boolean;
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
  /** Content deltas a streaming client already holds from this attempt (0 when not streaming). */
  streamDeltasSent: number;
  /** Attempts of this job that ended in `upstream_tls_error` through a proxy, this one included. */
  tlsFailures: number;
  /**
   * The retry budget's answer (the failed upstream's, on the tenant's share), or undefined while
   * it was not asked: asking spends a retry, so it is asked only once the decision would run the
   * job again (`ask_budget`).
   */
  budgetAllows: boolean | undefined;
}

/** A decision that runs the job again, or ends it. */
export type SettledDecision =
  | { action: 'retry'; delayMs: number }
  /** Move to the next fallback model; its first attempt runs after `delayMs` (at once). */
  | { action: 'fallback'; delayMs: number }
  | FailDecision;

/** Ask the retry budget (which counts the retry) and decide again with its answer. */
export interface AskBudgetDecision {
  action: 'ask_budget';
}

export type RetryDecision = SettledDecision | AskBudgetDecision;

/** Outcomes that say "this identity is the problem": the retry must leave through another one. */
const ROTATE: ReadonlySet<AttemptOutcome> = new Set(['rate_limited', 'blocked', 'proxy_fault']);
const NEVER_RETRY: ReadonlySet<AttemptOutcome> = new Set(['client_fault', 'canceled']);
const MAX_BACKOFF_MS = 60_000;

/**
 * A TLS failure direct is final for the model's host: the certificate will not change in a second
 * (a fallback model, elsewhere, is asked at once). Through a proxy it may be the proxy tampering
 * (the pool counts it against that proxy), so it is retried once, at once, through another proxy;
 * failing there too, it is the target's certificate.
 */
function tlsDecision(input: RetryInput): SettledDecision | undefined {
  const { code, message } = input;
  if (code !== 'upstream_tls_error') return undefined;
  const again = input.egressRotates && input.tlsFailures > 1;
  if (input.egressRotates && !again) return undefined;
  if (input.hasFallback) return { action: 'fallback', delayMs: 0 };
  return fail('not_retryable', code, again ? `${message}, through another proxy too` : message);
}

/** Retry, fall back or fail, as if a retry were always affordable. */
function schedule(input: RetryInput): SettledDecision {
  const { code, message } = input;
  const pastDeadline = fail('deadline', code, `${message} (no retry fits before the deadline)`);
  if (NEVER_RETRY.has(input.outcome)) return fail('not_retryable', code, message);
  const tls = tlsDecision(input);
  if (tls) return tls;
  if (input.now >= input.deadline) return pastDeadline;
  // An answer that failed the JSON guardrail: the same model asked again is likely to answer the
  // same way (and bills again), so the next model is asked instead, or the job ends.
  if (input.outcome === 'invalid_output')
    return input.hasFallback ? { action: 'fallback', delayMs: 0 } : fail('invalid_output', code, message);
  if (input.attempt >= input.maxAttempts) {
    return input.hasFallback ? { action: 'fallback', delayMs: 0 } : fail('attempts_exhausted', code, message);
  }
  const exp = Math.min(MAX_BACKOFF_MS, input.backoffMs * 2 ** (input.attempt - 1));
  const jittered = Math.round(exp / 2 + (exp / 2) * input.random);
  const delayMs =
    ROTATE.has(input.outcome) && input.egressRotates
      ? 0
      : input.retryAfterMs !== undefined
        ? Math.max(input.retryAfterMs, 0)
        : jittered;
  if (input.now + delayMs >= input.deadline) {
    // No retry of this model fits before the deadline; another model can be asked at once.
    return input.hasFallback ? { action: 'fallback', delayMs: 0 } : pastDeadline;
  }
  return { action: 'retry', delayMs };
}

/**
 * After a failed attempt. A client fault (the request itself is wrong) or a cancel is final; a
 * stream the client already holds part of is final (another attempt would splice two answers);
 * a retry or fallback needs the upstream's retry budget, which a final failure never spends.
 */
export function decideRetry(input: RetryInput & { budgetAllows: boolean }): SettledDecision;
export function decideRetry(input: RetryInput): RetryDecision;
export function decideRetry(input: RetryInput): RetryDecision {
  const { code, message, streamDeltasSent } = input;
  if (streamDeltasSent > 0)
    return fail('stream_cut', code, `${message} (the stream was cut after ${streamDeltasSent} deltas)`);
  const decision = schedule(input);
  if (decision.action === 'fail') return decision;
  if (input.budgetAllows === undefined) return { action: 'ask_budget' };
  if (!input.budgetAllows)
    return fail(
      'retry_budget',
      'retry_budget_exhausted',
      `${message}; the retry budget of this upstream is spent`,
    );
  return decision;
}
