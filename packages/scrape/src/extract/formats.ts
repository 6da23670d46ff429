import type { ScrapeFormat } from '@switchyard/contracts';

// The formats are part of the API: contracts defines them.
export { SCRAPE_FORMATS, type ScrapeFormat } from '@switchyard/contracts';

/** One fetched response, as the fetch left it. */
export interface ExtractInput {
  /** The body as received (already size-capped by the fetch). */
  body: Uint8Array;
  /** The response's Content-Type header, charset included; `null` when it had none. */
  contentType: string | null;
  /** The final URL after redirects: the base for relative links. */
  url: string;
  status: number;
  formats: readonly ScrapeFormat[];
  /** `true`: the article or main content only; `false`: the whole `<body>`, hidden parts removed. */
  onlyMainContent: boolean;
  /** The response's Content-Language header, if the caller has it: a fallback for `metadata.language`. */
  contentLanguage?: string | null;
}

export interface PageMetadata {
  /** `og:title`, else `<title>`. */
  title: string | null;
  /** `<meta name=description>`, else `og:description`. */
  description: string | null;
  /** `<html lang>`, else `<meta http-equiv=content-language>`, else the Content-Language header. */
  language: string | null;
  /** `<link rel=canonical>`, absolute. */
  canonical_url: string | null;
  /** When the page states it (`article:published_time`, JSON-LD `datePublished`, `<time>`), ISO 8601. */
  published_at: string | null;
  status: number;
  content_type: string | null;
}

/** The extraction of one response: one field per requested format, `content_hash` and `bytes` always. */
export interface Extracted {
  markdown?: string;
  text?: string;
  /** The cleaned main content (or body) as HTML. */
  html?: string;
  /** The body exactly as received, base64. */
  raw?: string;
  /** Absolute http(s) URLs, fragments removed, de-duplicated, in document order. */
  links?: string[];
  metadata?: PageMetadata;
  /**
   * `sha256:<hex>` of the normalized markdown (see `normalizeForHash`), or of the body's bytes when
   * the content type has no markdown (images, archives, ...).
   */
  content_hash: string;
  /** The body's size in bytes, as received. */
  bytes: number;
}

/** The formats that need the content understood, as opposed to `raw` and `metadata`. */
export const CONTENT_FORMATS: ReadonlySet<ScrapeFormat> = new Set(['markdown', 'text', 'html', 'links']);
