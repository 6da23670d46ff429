import type { DomDocument } from './dom.ts';

/** `value` resolved against `base` if it is an http(s) URL after resolution, else `null`. */
export function resolveHttp(value: string | null, base: URL): URL | null {
  if (value === null) return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** The document's base URL: its first `<base href>` resolved against the response URL, else that URL. */
export function documentBase(doc: DomDocument, responseUrl: string): URL {
  const url = new URL(responseUrl);
  return resolveHttp(doc.querySelector('base[href]')?.getAttribute('href') ?? null, url) ?? url;
}

/** Absolute http(s) URLs, fragments removed, de-duplicated, first occurrence first. */
export function uniqueUrls(values: Iterable<string | null>, base: URL): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    const url = resolveHttp(value, base);
    if (!url) continue;
    url.hash = '';
    seen.add(url.href);
  }
  return [...seen];
}

/** Every link of an HTML document (`<a href>`, `<area href>`), head to foot. */
export function documentLinks(doc: DomDocument, base: URL): string[] {
  return uniqueUrls(
    [...doc.querySelectorAll('a[href], area[href]')].map((a) => a.getAttribute('href')),
    base,
  );
}

const BARE_URL = /\bhttps?:\/\/[^\s<>"'`()[\]{}]+/g;
const MARKDOWN_TARGET = /\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g;

/** A URL in prose loses the sentence's punctuation after it (a loop: /[.,]+$/ backtracks). */
function withoutTrailingPunctuation(url: string): string {
  let end = url.length;
  while (end > 0 && '.,;:!?'.includes(url.charAt(end - 1))) end--;
  return url.slice(0, end);
}

/**
 * The links of a plain-text or markdown body: markdown link targets (resolved against the URL)
 * and bare http(s) URLs, in order of appearance.
 */
export function textLinks(text: string, base: URL): string[] {
  const found: { at: number; value: string }[] = [];
  for (const m of text.matchAll(MARKDOWN_TARGET)) found.push({ at: m.index, value: m[1] ?? '' });
  for (const m of text.matchAll(BARE_URL))
    found.push({ at: m.index, value: withoutTrailingPunctuation(m[0]) });
  found.sort((a, b) => a.at - b.at);
  return uniqueUrls(
    found.map((f) => f.value),
    base,
  );
}
