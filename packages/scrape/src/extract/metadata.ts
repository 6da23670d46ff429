import { cleanText, type DomDocument } from './dom.ts';
import type { ExtractInput, PageMetadata } from './formats.ts';
import { resolveHttp } from './urls.ts';

/** `<meta>` values by lower-cased `name`, `property`, `itemprop` or `http-equiv`; the first wins. */
function metaValues(doc: DomDocument): Map<string, string> {
  const values = new Map<string, string>();
  for (const meta of doc.querySelectorAll('meta[content]')) {
    const content = cleanText(meta.getAttribute('content'));
    if (!content) continue;
    for (const attribute of ['name', 'property', 'itemprop', 'http-equiv']) {
      const key = meta.getAttribute(attribute)?.trim().toLowerCase();
      if (key && !values.has(key)) values.set(key, content);
    }
  }
  return values;
}

/** A date as ISO 8601: a date alone stays a date (`2024-05-02`); a time becomes UTC. */
export function isoDate(value: string | null | undefined): string | null {
  const v = value?.trim();
  if (!v || !/\d{4}/.test(v)) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return Number.isNaN(Date.parse(v)) ? null : v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The first `datePublished` in the page's JSON-LD (objects, arrays and `@graph` searched in order). */
function jsonLdDatePublished(doc: DomDocument): string | null {
  const search = (node: unknown, depth: number): string | null => {
    if (depth > 8 || node === null || typeof node !== 'object') return null;
    if (!Array.isArray(node)) {
      const value = (node as Record<string, unknown>).datePublished;
      if (typeof value === 'string') return value;
    }
    for (const child of Object.values(node)) {
      const found = search(child, depth + 1);
      if (found) return found;
    }
    return null;
  };
  for (const script of doc.querySelectorAll('script[type="application/ld+json"]')) {
    try {
      const found = search(JSON.parse(script.textContent ?? ''), 0);
      if (found) return found;
    } catch {
      // Broken JSON-LD is common; the next block or the next source may do.
    }
  }
  return null;
}

function publishedAt(doc: DomDocument, meta: Map<string, string>): string | null {
  const time = doc.querySelector('article time[datetime], [itemprop="datePublished"][datetime]');
  const candidates = [
    () => meta.get('article:published_time'),
    () => jsonLdDatePublished(doc),
    () => meta.get('datepublished') ?? meta.get('date') ?? meta.get('pubdate') ?? meta.get('dc.date.issued'),
    () => time?.getAttribute('datetime'),
  ];
  for (const candidate of candidates) {
    const iso = isoDate(candidate());
    if (iso) return iso;
  }
  return null;
}

function canonicalUrl(doc: DomDocument, base: URL): string | null {
  for (const link of doc.querySelectorAll('link[rel][href]')) {
    const rels = (link.getAttribute('rel') ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('canonical')) return resolveHttp(link.getAttribute('href'), base)?.href ?? null;
  }
  return null;
}

/** The first language tag of a Content-Language value (`en-GB, fr` → `en-GB`). */
export const firstLanguage = (value: string | null | undefined) => cleanText(value?.split(',')[0]);

/** Metadata of an HTML page; read before the page is cleaned (it needs `<head>` and JSON-LD). */
export function htmlMetadata(doc: DomDocument, input: ExtractInput, base: URL): PageMetadata {
  const meta = metaValues(doc);
  return {
    title: meta.get('og:title') ?? cleanText(doc.querySelector('title')?.textContent),
    description: meta.get('description') ?? meta.get('og:description') ?? null,
    language:
      firstLanguage(doc.documentElement.getAttribute('lang')) ??
      firstLanguage(meta.get('content-language')) ??
      firstLanguage(input.contentLanguage),
    canonical_url: canonicalUrl(doc, base),
    published_at: publishedAt(doc, meta),
    status: input.status,
    content_type: input.contentType,
  };
}

/** Metadata of a body that is not HTML: what the response says, and a title when the caller found one. */
export function bareMetadata(input: ExtractInput, title: string | null = null): PageMetadata {
  return {
    title,
    description: null,
    language: firstLanguage(input.contentLanguage),
    canonical_url: null,
    published_at: null,
    status: input.status,
    content_type: input.contentType,
  };
}
