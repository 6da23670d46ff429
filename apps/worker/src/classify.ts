import { SwitchyardError, type AttemptOutcome, type ErrorCode, type Outcome } from '@switchyard/contracts';
import { UpstreamBadResponseError, UpstreamHttpError } from '@switchyard/providers';
import { ResponseTooLargeError, TargetLookupError, TooManyRedirectsError } from '@switchyard/scrape';
import { InvalidOutputError } from './executors/types.ts';

export interface Classified {
  /** Never `cache_hit` (a hit is not an attempt that can fail). */
  outcome: Exclude<AttemptOutcome, 'ok' | 'cache_hit'>;
  /** The job error code used if this attempt ends the job. */
  code: ErrorCode;
  message: string;
  retryAfterMs: number | undefined;
}

export interface ClassifyContext {
  /** The job's cancel signal fired (not a timeout). */
  canceled: boolean;
  /** The attempt went through a pool proxy, so connection failures are the proxy's. */
  viaProxy: boolean;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * undici's ProxyAgent reports a 407 as UND_ERR_INVALID_ARG and a refused CONNECT tunnel as
 * UND_ERR_ABORTED, with nothing more structured; through a proxy (and not canceled by us, which is
 * checked first) both mean the proxy turned the request away.
 */
const PROXY_REFUSAL_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_ABORTED']);

function errorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; cause?: unknown; name?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (e.name === 'TimeoutError') return 'ETIMEDOUT';
  return e.cause ? errorCode(e.cause) : undefined;
}

function httpOutcome(err: UpstreamHttpError, ctx: ClassifyContext): Classified {
  const s = err.status;
  const retryAfterMs = err.retryAfterMs;
  if (s === 429)
    return {
      outcome: 'rate_limited',
      code: 'upstream_rate_limited',
      message: 'the upstream answered 429',
      retryAfterMs,
    };
  if (s === 407 && ctx.viaProxy)
    return {
      outcome: 'proxy_fault',
      code: 'upstream_unreachable',
      message: 'the proxy refused our credentials (407)',
      retryAfterMs,
    };
  if (s === 403)
    return {
      outcome: 'blocked',
      code: 'upstream_blocked',
      message: 'the upstream answered 403',
      retryAfterMs,
    };
  if (s >= 500 || s === 408)
    return {
      outcome: 'upstream_fault',
      code: 'upstream_error',
      message: `the upstream answered ${s}`,
      retryAfterMs,
    };
  return {
    outcome: 'client_fault',
    code: 'upstream_rejected',
    message: `the upstream rejected the request (${s}${err.upstreamCode ? `, ${err.upstreamCode}` : ''})`,
    retryAfterMs,
  };
}

/**
 * What the proxy pool learns from a failed attempt: an answer that failed the JSON guardrail came
 * through the egress fine, so for the pool it is `ok`.
 */
export function poolOutcome(outcome: Classified['outcome']): Outcome {
  return outcome === 'invalid_output' ? 'ok' : outcome;
}

/** An outcome without a Retry-After. */
const failure = (outcome: Classified['outcome'], code: ErrorCode, message: string): Classified => ({
  outcome,
  code,
  message,
  retryAfterMs: undefined,
});

/** Errors of our own types: the catalog's, the scrape fetcher's and the providers'. */
function typedOutcome(err: unknown): Classified | undefined {
  // A refused scrape target (target_forbidden) is a SwitchyardError: client_fault, never retried.
  if (err instanceof SwitchyardError) return failure('client_fault', err.code, err.message);
  // The answer came (and was billed) but failed the request's JSON guardrail.
  if (err instanceof InvalidOutputError) return failure('invalid_output', 'invalid_output', err.message);
  // The worker resolves scrape targets itself, even through the pool: a failed lookup is the
  // target's fault, not the proxy's.
  if (err instanceof TargetLookupError) {
    const message = `the target host could not be resolved (${err.code})`;
    return failure('upstream_fault', 'upstream_unreachable', message);
  }
  if (err instanceof UpstreamBadResponseError)
    return failure('upstream_fault', 'upstream_bad_response', err.message);
  if (err instanceof ResponseTooLargeError) return failure('client_fault', 'response_too_large', err.message);
  if (err instanceof TooManyRedirectsError) return failure('client_fault', 'too_many_redirects', err.message);
  return undefined;
}

/** Node and undici errors, by their `code`. */
function codeOutcome(code: string | undefined, ctx: ClassifyContext): Classified | undefined {
  if (!code) return undefined;
  if (TIMEOUT_CODES.has(code))
    return failure('upstream_fault', 'upstream_timeout', 'the upstream did not answer in time');
  if (ctx.viaProxy && PROXY_REFUSAL_CODES.has(code))
    return failure('proxy_fault', 'upstream_unreachable', `the proxy refused the request (${code})`);
  if (!CONNECT_CODES.has(code)) return undefined;
  return ctx.viaProxy
    ? failure('proxy_fault', 'upstream_unreachable', `the proxy connection failed (${code})`)
    : failure('upstream_fault', 'upstream_unreachable', `the upstream could not be reached (${code})`);
}

/**
 * The one place an attempt's failure becomes an outcome class. Branches on error types and
 * codes, never on messages; messages returned here are ours, never upstream bodies.
 */
export function classify(err: unknown, ctx: ClassifyContext): Classified {
  if (ctx.canceled) return failure('canceled', 'canceled', 'the job was canceled');
  if (err instanceof UpstreamHttpError) return httpOutcome(err, ctx);
  return (
    typedOutcome(err) ??
    codeOutcome(errorCode(err), ctx) ??
    failure('client_fault', 'internal_job_error', 'the worker failed while running the job')
  );
}
