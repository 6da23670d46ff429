/**
 * What an adapter throws when the upstream answered but not with a usable result. Adapters report
 * facts (status, Retry-After, what was wrong); the worker's classifier decides what they mean.
 * Transport failures are thrown as undici errors, whose `code` the classifier reads.
 */
export class UpstreamHttpError extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  /** Upstream's error type/code if it sent one (never its full body: it may echo the prompt). */
  readonly upstreamCode: string | undefined;

  constructor(status: number, opts: { retryAfterMs?: number; upstreamCode?: string } = {}) {
    super(`upstream answered HTTP ${status}`);
    this.name = 'UpstreamHttpError';
    this.status = status;
    this.retryAfterMs = opts.retryAfterMs;
    this.upstreamCode = opts.upstreamCode;
  }
}

/** A 2xx answer that is not a usable result: an error object inside a 200, no choices, a cut stream. */
export class UpstreamBadResponseError extends Error {
  readonly reason: 'error_in_body' | 'malformed' | 'stream_cut';

  constructor(reason: UpstreamBadResponseError['reason'], message: string) {
    super(message);
    this.name = 'UpstreamBadResponseError';
    this.reason = reason;
  }
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const PARTIAL = new WeakMap<object, string>();

/**
 * Marks `err` as ending a stream that had started: the upstream took the prompt and sent
 * `received` (maybe nothing) before it stopped, so it bills them though no usage arrived.
 * Returns `err` for `throw`.
 */
export function markPartialStream(err: unknown, received: string): unknown {
  if (err && typeof err === 'object' && !PARTIAL.has(err)) PARTIAL.set(err, received);
  return err;
}

/** The text a cut stream had sent before `err` ended it; undefined when no stream had started. */
export function partialStreamText(err: unknown): string | undefined {
  return err && typeof err === 'object' ? PARTIAL.get(err) : undefined;
}
