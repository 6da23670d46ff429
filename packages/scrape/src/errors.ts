import { SwitchyardError } from '@switchyard/contracts';

/** The body passed the byte cap (decoded or on the wire); one class for scrapes and LLM calls. */
export { ContentDecodingError, ResponseTooLargeError } from '@switchyard/providers';

export class TooManyRedirectsError extends Error {
  constructor(hops: number) {
    super(`more than ${hops} redirects`);
    this.name = 'TooManyRedirectsError';
  }
}

/**
 * The target (or a redirect hop) is not a place scrapes may go: a refused scheme or port, or an
 * address that is loopback, private, link-local, metadata, ... Never retried. The detail names the
 * host and the kind of address, not the address a name resolved to.
 */
export class TargetForbiddenError extends SwitchyardError {
  /** The kind of address or rule that refused it, for logs and tests. */
  readonly reason: string;
  constructor(detail: string, reason: string) {
    super('target_forbidden', detail);
    this.name = 'TargetForbiddenError';
    this.reason = reason;
  }
}

/**
 * The worker's own resolution of the target failed (NXDOMAIN, no answer in time). The target's
 * fault, never the proxy's: through the pool, the name is resolved here, not at the proxy.
 */
export class TargetLookupError extends Error {
  /** The resolver's code (`ENOTFOUND`, `EAI_AGAIN`, ...). */
  readonly code: string;
  constructor(hostname: string, code: string, options?: { cause?: unknown }) {
    super(`could not resolve "${hostname}" (${code})`, options);
    this.name = 'TargetLookupError';
    this.code = code;
  }
}
