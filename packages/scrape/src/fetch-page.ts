import { UpstreamHttpError, parseRetryAfter } from '@switchyard/providers';
import { request, type Dispatcher } from 'undici';
import { ResponseTooLargeError, TooManyRedirectsError } from './errors.ts';
import type { TargetGuard } from './target-guard.ts';

export interface FetchPageOptions {
  url: string;
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  timeoutMs: number;
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

/** One final response (after redirects), its body as received. */
export interface FetchedPage {
  /** The final URL after redirects. */
  url: string;
  status: number;
  contentType: string | null;
  body: Buffer;
  etag: string | null;
  lastModified: string | null;
  contentLanguage: string | null;
}

const header = (value: string | string[] | undefined): string | null =>
  typeof value === 'string' ? value : null;

/** The caller's headers minus Host: the Host header is always the hop URL's own. */
function callerHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => k.toLowerCase() !== 'host'));
}

/** Statuses that mean "the site refused us", retried by the worker on another identity. */
const REFUSALS = new Set([403, 407, 429]);

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  truncate = false,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      if (!truncate) throw new ResponseTooLargeError(maxBytes);
      chunks.push(chunk.subarray(0, chunk.length - (total - maxBytes)));
      return Buffer.concat(chunks, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Fetches one page: redirects followed by hand (each hop checked by the guard and pinned to the
 * address it checked), a byte cap enforced while streaming, one timeout for the whole call (DNS
 * included), no retries. 403/407/429/5xx throw UpstreamHttpError for the worker to classify;
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
    const body = await readCapped(res.body, opts.maxBytes, opts.truncate);
    return {
      url: url.toString(),
      status: res.statusCode,
      contentType: header(res.headers['content-type']),
      body,
      etag: header(res.headers.etag),
      lastModified: header(res.headers['last-modified']),
      contentLanguage: header(res.headers['content-language']),
    };
  }
}
