import { z } from 'zod';

/** What a scrape can return besides the fetch itself; `markdown` is the default. */
export const SCRAPE_FORMATS = ['markdown', 'text', 'html', 'raw', 'links', 'metadata'] as const;
export const ScrapeFormatSchema = z.enum(SCRAPE_FORMATS);
export type ScrapeFormat = z.infer<typeof ScrapeFormatSchema>;

/** The longest reuse a request may ask for; the broker's `scrape.cache.maxTtlSeconds` may cap it lower. */
export const MAX_SCRAPE_AGE_S = 30 * 86_400;

const SHA256 = /^sha256:[0-9a-f]{64}$/;

export const ScrapeRequestSchema = z
  .strictObject({
    url: z
      .string()
      .max(8192)
      .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
      .describe('The page to fetch: an http(s) URL whose host resolves to a public address'),
    method: z
      .enum(['GET', 'HEAD'])
      .default('GET')
      .describe('`HEAD` fetches no body: only `raw` (empty) and `metadata` are returned'),
    headers: z
      .record(z.string().min(1).max(256), z.string().max(8192))
      .refine((h) => Object.keys(h).length <= 64, { message: 'at most 64 headers' })
      .optional()
      .describe('Extra request headers (at most 64); Host is always the URL’s own'),
    formats: z
      .array(ScrapeFormatSchema)
      .min(1)
      .max(SCRAPE_FORMATS.length)
      .optional()
      .describe(
        'What the result carries: any of `markdown` (the default), `text`, `html` (the cleaned main content), ' +
          '`raw` (the body as received, base64), `links`, `metadata`',
      ),
    only_main_content: z
      .boolean()
      .default(true)
      .describe(
        '`true`: the article or main content only; `false`: the whole page body, hidden parts removed',
      ),
    format: z
      .enum(['text', 'raw'])
      .optional()
      .describe(
        'Deprecated alias kept for v1 clients; cannot be combined with `formats`. With it the result carries ' +
          '`body` as before (`text`: the body decoded as UTF-8; `raw`: base64) and no per-format fields',
      ),
    if_none_match: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('Sent as If-None-Match (an `etag` from a previous result); a 304 gives `unchanged: true`'),
    if_modified_since: z
      .string()
      .max(64)
      .refine((d) => !Number.isNaN(Date.parse(d)), 'must be an HTTP date or ISO 8601 timestamp')
      .optional()
      .describe(
        'Sent as If-Modified-Since (a `last_modified` from a previous result); a 304 gives `unchanged: true`',
      ),
    previous_hash: z
      .string()
      .regex(SHA256, 'must be sha256:<64 hex digits>')
      .optional()
      .describe(
        'The `content_hash` of a previous result: when the new one is equal, `unchanged` is true and the ' +
          'content fields are left out unless `formats` was given',
      ),
    max_age_s: z
      .number()
      .int()
      .positive()
      .max(MAX_SCRAPE_AGE_S)
      .optional()
      .describe(
        'Reuse: a successful scrape of the same URL, method, headers and formats by this tenant, made with ' +
          '`max_age_s` at most this many seconds ago, is returned with `cached: true` and no request to the site',
      ),
  })
  .refine((r) => !(r.format && r.formats), {
    message: 'give `formats` (or the deprecated `format`), not both',
    path: ['format'],
  })
  .meta({ id: 'ScrapeRequest' });
export type ScrapeRequest = z.infer<typeof ScrapeRequestSchema>;

export const ScrapeMetadataSchema = z
  .object({
    title: z
      .string()
      .nullable()
      .describe('`og:title`, else `<title>`, else a PDF’s or markdown file’s title'),
    description: z.string().nullable().describe('`<meta name=description>`, else `og:description`'),
    language: z
      .string()
      .nullable()
      .describe('`<html lang>`, else `<meta http-equiv=content-language>`, else the Content-Language header'),
    canonical_url: z.string().nullable().describe('`<link rel=canonical>`, absolute'),
    published_at: z
      .string()
      .nullable()
      .describe('ISO 8601, when the page states it (`article:published_time`, JSON-LD, `<time>`)'),
    status: z.number().int().describe('The HTTP status of the final response'),
    content_type: z.string().nullable().describe('The Content-Type header of the final response'),
  })
  .meta({ id: 'ScrapeMetadata' });

export const ScrapeResultSchema = z
  .object({
    type: z.literal('scrape').describe('Always `scrape`'),
    url: z.string().describe('The final URL after redirects'),
    status: z.number().int().describe('The HTTP status of the final response (304 when `unchanged` by it)'),
    content_type: z.string().nullable().describe('The Content-Type header of the final response'),
    body: z
      .string()
      .optional()
      .describe('Only with the deprecated `format`: the body as UTF-8 text, or base64 for `raw`'),
    markdown: z.string().optional().describe('With `markdown`: the main content (or body) as markdown'),
    text: z.string().optional().describe('With `text`: the same content as plain text'),
    html: z.string().optional().describe('With `html`: the cleaned main content (or body) as HTML'),
    raw: z
      .string()
      .optional()
      .describe('With `raw`: the body as received, its Content-Encoding decoded, base64'),
    links: z
      .array(z.string())
      .optional()
      .describe('With `links`: absolute http(s) URLs, fragments removed, de-duplicated, in document order'),
    metadata: ScrapeMetadataSchema.optional().describe('With `metadata`: what the page says about itself'),
    content_hash: z
      .string()
      .nullable()
      .describe(
        '`sha256:` of the normalized markdown (of the bytes for types without markdown); after a 304, the ' +
          'request’s `previous_hash`, or null without one',
      ),
    bytes: z
      .number()
      .int()
      .nonnegative()
      .describe('The body’s size on the wire, compressed as sent (what a proxy bills; 0 after a 304)'),
    decoded_bytes: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('The body’s size after its Content-Encoding was decoded (equal to `bytes` when sent plain)'),
    unchanged: z
      .boolean()
      .describe('The site answered 304, or the content hash equals the request’s `previous_hash`'),
    cached: z
      .boolean()
      .describe('Reused from an earlier scrape within `max_age_s`: the site was not asked again'),
    etag: z.string().nullable().describe('The response’s ETag, for `if_none_match` next time'),
    last_modified: z
      .string()
      .nullable()
      .describe('The response’s Last-Modified, for `if_modified_since` next time'),
  })
  .meta({ id: 'ScrapeResult' });
export type ScrapeResult = z.infer<typeof ScrapeResultSchema>;
