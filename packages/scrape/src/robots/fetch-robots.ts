import { UpstreamHttpError } from '@switchyard/providers';
import type { Dispatcher } from 'undici';
import { TargetForbiddenError, TooManyRedirectsError } from '../errors.ts';
import { fetchPage } from '../fetch-page.ts';
import type { TargetGuard } from '../target-guard.ts';

export interface FetchRobotsOptions {
  /** `URL.origin` of the page: the file is `<origin>/robots.txt`. */
  origin: string;
  dispatcher: Dispatcher;
  guard: TargetGuard;
  userAgent: string;
  timeoutMs: number;
  /** Only this much is read; the rest is ignored (RFC 9309 2.5: at least 500 KiB). */
  maxBytes: number;
  signal: AbortSignal;
  /** Called right before the request is sent (see FetchPageOptions.beforeSend). */
  beforeSend?: () => void;
}

/** What one fetch of a robots.txt found (RFC 9309 2.3.1). */
export type RobotsFetch =
  | { kind: 'rules'; text: string; bytes: number }
  | { kind: 'allow_all'; status: number; bytes: number }
  /** 5xx or 429: nothing is allowed for now; `retryAfterMs` when the host said how long. */
  | { kind: 'unreachable'; status: number; retryAfterMs: number | undefined };

/**
 * Fetches an origin's robots.txt the way a page is fetched (the SSRF guard at every hop, up to 5
 * redirects, the same dispatcher), reading at most `maxBytes`. Connection failures and timeouts
 * are thrown: whether the proxy or the site is to blame is the caller's to classify.
 */
export async function fetchRobotsTxt(opts: FetchRobotsOptions): Promise<RobotsFetch> {
  try {
    const page = await fetchPage({
      url: `${opts.origin}/robots.txt`,
      method: 'GET',
      timeoutMs: opts.timeoutMs,
      maxBytes: opts.maxBytes,
      truncate: true,
      userAgent: opts.userAgent,
      dispatcher: opts.dispatcher,
      signal: opts.signal,
      guard: opts.guard,
      beforeSend: opts.beforeSend,
    });
    // The wire's bytes (a compressed file is counted as sent), never more than what was kept of
    // a file cut at maxBytes: the rest of the read chunk is dropped unread.
    const bytes = Math.min(page.wireBytes, page.body.length);
    if (page.status >= 200 && page.status < 300)
      return { kind: 'rules', text: page.body.toString('utf8'), bytes };
    return { kind: 'allow_all', status: page.status, bytes };
  } catch (err) {
    if (err instanceof UpstreamHttpError) {
      if (err.status === 429 || err.status >= 500)
        return { kind: 'unreachable', status: err.status, retryAfterMs: err.retryAfterMs };
      // A 407 is the proxy's, not the site's answer.
      if (err.status !== 407) return { kind: 'allow_all', status: err.status, bytes: 0 };
    }
    // No file within 5 redirects, or redirected where scrapes may not go: "unavailable" (2.3.1.2).
    if (err instanceof TooManyRedirectsError) return { kind: 'allow_all', status: 310, bytes: 0 };
    if (err instanceof TargetForbiddenError) return { kind: 'allow_all', status: 0, bytes: 0 };
    throw err;
  }
}
