import { ACCEPT_ENCODING, UpstreamHttpError, parseRetryAfter, readDecoded } from '@switchyard/providers';
import { request, type Dispatcher } from 'undici';
import { TooManyRedirectsError } from './errors.ts';
import type { TargetGuard } from './target-guard.ts';

export interface FetchPageOptions {
  url: string;
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Cap on the decoded body (and on the wire bytes), applied as it streams. */
  maxBytes: number;
  userAgent: string;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  maxRedirects?: number;
  /** Past `maxBytes`, keep the first `maxBytes` instead of failing (robots.txt, RFC 9309 2.5). */
  truncate?: boolean;
  /**
   * Runs before every hop (the first URL and each redirect target): refuses forbidden targets and
   * pins the hop's connection to the address it checked.
   */
  guard: TargetGuard;
  /**
   * Called right before the first request is handed to undici, in the same tick (after DNS and
   * the guard): the per-host gate counts its interval from here. Not awaited, so no event-loop turn
   * (and no wait on a loaded machine) comes between it and the send.
   */
  beforeSend?: () => void;
}

/** One final response (after redirects), its body with its Content-Encoding decoded. */
export interface FetchedPage {
  /** The final URL after redirects. */
  url: string;
  status: number;
  contentType: string | null;
  /** The body, decoded (gzip, deflate, br, zstd undone). */
  body: Buffer;
  /** The body's bytes on the wire (compressed): what a proxy carries and bills. */
  wireBytes: number;
  etag: string | null;
  lastModified: string | null;
  contentLanguage: string | null;
}

const header = (value: string | string[] | undefined): string | null =>
  typeof value === 'string' ? value : null;

/** Headers that are always ours: Host is the hop URL's own; Accept-Encoding names what we decode. */
const OWN_HEADERS = new Set(['host', 'accept-encoding']);

/** The caller's headers minus the ones that are always ours. */
function callerHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !OWN_HEADERS.has(k.toLowerCase())));
}

/** Statuses that mean "the site refused us", retried by the worker on another identity. */
const REFUSALS = new Set([403, 407, 429]);

/**
 * Fetches one page: redirects followed by hand (each hop checked by the guard and pinned to the
 * address it checked), compressed transfer asked for and decoded as it streams, the byte cap
 * enforced on the decoded bytes while streaming, one timeout for the whole call (DNS included),
 * no retries. 403/407/429/5xx throw UpstreamHttpError for the worker to classify;
 * other statuses (304 included) are a result.
 */
export async function fetchPage(opts: FetchPageOptions): Promise<FetchedPage> {
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
  const maxRedirects = opts.maxRedirects ?? 5;
  let url = new URL(opts.url);
  for (let hop = 0; ; hop++) {
    // The request names the checked IP; Host (and so TLS SNI and the certificate check) keeps
    // the name. Neither undici nor a proxy resolves the name again.
    const target = await opts.guard.check(url, { signal, redirect: hop > 0 });
    if (hop === 0) opts.beforeSend?.();
    const res = await request(target.connectUrl, {
      method: opts.method,
      headers: {
        'user-agent': opts.userAgent,
        accept: '*/*',
        'accept-encoding': ACCEPT_ENCODING,
        ...callerHeaders(opts.headers),
        host: target.host,
      },
      dispatcher: opts.dispatcher,
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    const location = res.headers.location;
    // A 304 is an answer (the page is unchanged), never a redirect.
    const redirect = res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304;
    if (redirect && typeof location === 'string') {
      await res.body.dump();
      if (hop >= maxRedirects) throw new TooManyRedirectsError(maxRedirects);
      url = new URL(location, url);
      continue;
    }
    if (REFUSALS.has(res.statusCode) || res.statusCode >= 500) {
      await res.body.dump();
      throw new UpstreamHttpError(res.statusCode, {
        retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      });
    }
    const { body, wireBytes } = await readDecoded(
      res.body as AsyncIterable<Buffer> & Dispatcher.ResponseData['body'],
      {
        contentEncoding: res.headers['content-encoding'],
        maxBytes: opts.maxBytes,
        truncate: opts.truncate,
      },
    );
    return {
      url: url.toString(),
      status: res.statusCode,
      contentType: header(res.headers['content-type']),
      body,
      wireBytes,
      etag: header(res.headers.etag),
      lastModified: header(res.headers['last-modified']),
      contentLanguage: header(res.headers['content-language']),
    };
  }
}
