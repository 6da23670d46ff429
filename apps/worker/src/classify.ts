import { SwitchyardError, type AttemptOutcome, type ErrorCode, type Outcome } from '@switchyard/contracts';
import { ContentDecodingError, UpstreamBadResponseError, UpstreamHttpError } from '@switchyard/providers';
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
  // The connection ended before the body its Content-Length promised: a cut body.
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** What a certificate check's code says went wrong, in our words (Node's carry advice for its CLI). */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in an untrusted self-signed root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is not issued by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate is not issued by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is not issued by a trusted authority',
  CERT_UNTRUSTED: 'the certificate is not trusted',
  CERT_SIGNATURE_FAILURE: 'the certificate signature is invalid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name the host',
  HOSTNAME_MISMATCH: 'the certificate does not name the host',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  CERT_REVOKED: 'the certificate is revoked',
};

/** The reason of a TLS failure (a certificate check or an OpenSSL handshake error), else undefined. */
function tlsReason(code: string): string | undefined {
  const known = TLS_REASONS[code];
  if (known) return known;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('CERT_'))
    return 'the TLS handshake failed';
  return undefined;
}

/** undici's llhttp parser: the bytes that came back are not an HTTP response. */
function isProtocolError(err: unknown, code: string | undefined): boolean {
  return (err as { name?: unknown } | null)?.name === 'HTTPParserError' || !!code?.startsWith('HPE_');
}

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
  // The body arrived but its Content-Encoding does not decode: the site's, and it will not change.
  if (err instanceof ContentDecodingError)
    return failure('client_fault', 'content_decoding_failed', err.message);
  if (err instanceof TooManyRedirectsError) return failure('client_fault', 'too_many_redirects', err.message);
  return undefined;
}

/**
 * TLS and HTTP-protocol failures. Direct, they are the target's. Through a proxy they may be the
 * proxy's: a tampering proxy breaks the certificate check, and through a plain-HTTP proxy the
 * response bytes the worker parses are the proxy's own.
 */
function wireOutcome(err: unknown, code: string | undefined, ctx: ClassifyContext): Classified | undefined {
  const outcome = ctx.viaProxy ? 'proxy_fault' : 'upstream_fault';
  const tls = code ? tlsReason(code) : undefined;
  if (tls) return failure(outcome, 'upstream_tls_error', `TLS failed: ${tls} (${code})`);
  if (isProtocolError(err, code)) {
    const message = `the ${ctx.viaProxy ? 'proxy' : 'upstream'} did not answer in HTTP`;
    return failure(outcome, 'upstream_protocol_error', `${message}${code ? ` (${code})` : ''}`);
  }
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
  const code = errorCode(err);
  return (
    typedOutcome(err) ??
    wireOutcome(err, code, ctx) ??
    codeOutcome(code, ctx) ??
    failure('client_fault', 'internal_job_error', 'the worker failed while running the job')
  );
}
