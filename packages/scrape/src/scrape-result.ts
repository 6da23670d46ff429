import type { ScrapeFormat, ScrapeRequest, ScrapeResult } from '@switchyard/contracts';
import { createHash } from 'node:crypto';
import type { Extracted } from './extract/formats.ts';
import type { FetchedPage } from './fetch-page.ts';

/** What a scrape request asks of the fetch and the extractor, decided once. */
export interface ScrapePlan {
  /** Asked of the extractor. */
  formats: ScrapeFormat[];
  /** The deprecated `format`: the result carries `body` this way and no per-format fields. */
  legacyBody: 'text' | 'raw' | null;
  /** The request named `formats`: its content comes back even when unchanged. */
  explicit: boolean;
  /** If-None-Match / If-Modified-Since from `if_none_match` / `if_modified_since`. */
  conditionalHeaders: Record<string, string>;
}

/** A HEAD has no body: only what needs none. */
const WITHOUT_BODY: ReadonlySet<ScrapeFormat> = new Set(['raw', 'metadata']);

/**
 * The request's formats: `formats` as given (de-duplicated), else `markdown`. The deprecated
 * `format` (`text` | `raw`) keeps its v1 meaning: the body in `body`, nothing extracted but the
 * content hash. A HEAD keeps only `raw` and `metadata`.
 */
export function planScrape(req: ScrapeRequest): ScrapePlan {
  const legacyBody = req.formats ? null : (req.format ?? null);
  const asked: ScrapeFormat[] = legacyBody ? [] : [...new Set<ScrapeFormat>(req.formats ?? ['markdown'])];
  const formats = req.method === 'HEAD' ? asked.filter((f) => WITHOUT_BODY.has(f)) : asked;
  const conditionalHeaders: Record<string, string> = {};
  if (req.if_none_match) conditionalHeaders['if-none-match'] = req.if_none_match;
  if (req.if_modified_since)
    conditionalHeaders['if-modified-since'] = new Date(req.if_modified_since).toUTCString();
  return { formats, legacyBody, explicit: req.formats !== undefined, conditionalHeaders };
}

/** The fields a result carries per format: what `unchanged` leaves out. */
const CONTENT_FIELDS = ['body', 'markdown', 'text', 'html', 'raw', 'links', 'metadata'] as const;

/** A 304: nothing new to return; the hash is the one the caller already has, if it said. */
export function notModifiedResult(page: FetchedPage, req: ScrapeRequest): ScrapeResult {
  return {
    type: 'scrape',
    url: page.url,
    status: page.status,
    content_type: page.contentType,
    content_hash: req.previous_hash ?? null,
    bytes: 0,
    decoded_bytes: 0,
    unchanged: true,
    cached: false,
    etag: page.etag,
    last_modified: page.lastModified,
  };
}

/** A fetched page and its extraction as the job's result (before `previous_hash` is applied). */
export function scrapeResult(page: FetchedPage, extracted: Extracted, plan: ScrapePlan): ScrapeResult {
  const { content_hash, bytes: decoded_bytes, ...formats } = extracted;
  const body =
    plan.legacyBody === 'raw'
      ? page.body.toString('base64')
      : plan.legacyBody === 'text'
        ? page.body.toString('utf8')
        : undefined;
  return {
    type: 'scrape',
    url: page.url,
    status: page.status,
    content_type: page.contentType,
    ...(body === undefined ? {} : { body }),
    ...formats,
    content_hash,
    bytes: page.wireBytes,
    decoded_bytes,
    unchanged: false,
    cached: false,
    etag: page.etag,
    last_modified: page.lastModified,
  };
}

/**
 * `previous_hash` equal to the result's hash: `unchanged`, and the content left out unless the
 * request named `formats` (a recrawl that only wants to know skips the transfer).
 */
export function applyPreviousHash(result: ScrapeResult, req: ScrapeRequest, plan: ScrapePlan): ScrapeResult {
  if (!req.previous_hash || req.previous_hash !== result.content_hash) return result;
  const out: ScrapeResult = { ...result, unchanged: true };
  if (!plan.explicit) for (const field of CONTENT_FIELDS) delete out[field];
  return out;
}

/**
 * What makes two scrapes the same for reuse: URL, method, headers and what is extracted. Not the
 * conditional fields: they decide `unchanged`, which is worked out again on reuse.
 */
export function scrapeReuseId(req: ScrapeRequest): string {
  const plan = planScrape(req);
  const headers = Object.entries(req.headers ?? {})
    .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
    .sort();
  const identity = [
    req.url,
    req.method,
    headers,
    [...plan.formats].sort(),
    plan.legacyBody,
    req.only_main_content,
  ];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}
