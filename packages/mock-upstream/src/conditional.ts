import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The validators a page is served with: a strong ETag of its bytes and a Last-Modified. */
export interface Validators {
  etag: string;
  lastModified: string;
}

/** Every fixture says it last changed at this moment, so tests can name a date before or after it. */
export const FIXTURE_LAST_MODIFIED = 'Wed, 01 Oct 2025 12:00:00 GMT';

export function validatorsOf(body: Buffer, lastModified = FIXTURE_LAST_MODIFIED): Validators {
  return { etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`, lastModified };
}

/** ETags compare weakly for GET (RFC 9110 §13.1.2): `W/"x"` matches `"x"`. */
const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/**
 * RFC 9110 §13.2.2: If-None-Match decides when present (`*` or a list of tags); otherwise
 * If-Modified-Since answers 304 when the page has not changed since that date.
 */
export function notModified(headers: IncomingHttpHeaders, v: Validators): boolean {
  const inm = headers['if-none-match'];
  if (typeof inm === 'string') {
    return inm.trim() === '*' || inm.split(',').some((tag) => opaque(tag) === opaque(v.etag));
  }
  const ims = headers['if-modified-since'];
  if (typeof ims !== 'string') return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Date.parse(v.lastModified) <= since;
}
