import { ScrapeRequestSchema, type ScrapeRequest } from '@switchyard/contracts';
import { describe, expect, it } from 'vitest';
import type { FetchedPage } from './fetch-page.ts';
import {
  applyPreviousHash,
  notModifiedResult,
  planScrape,
  scrapeResult,
  scrapeReuseId,
} from './scrape-result.ts';

const req = (over: Record<string, unknown> = {}): ScrapeRequest =>
  ScrapeRequestSchema.parse({ url: 'https://example.com/a', ...over });

const HASH = `sha256:${'a'.repeat(64)}`;
const fetched: FetchedPage = {
  url: 'https://example.com/a',
  status: 200,
  contentType: 'text/html',
  body: Buffer.from('<p>hi</p>'),
  wireBytes: 9,
  etag: '"v1"',
  lastModified: 'Wed, 01 Oct 2025 12:00:00 GMT',
  contentLanguage: null,
};

describe('planScrape: what a request asks of the fetch and the extractor', () => {
  it.each<[string, Record<string, unknown>, string[], 'text' | 'raw' | null, boolean]>([
    ['nothing named: markdown', {}, ['markdown'], null, false],
    [
      'formats as given, de-duplicated',
      { formats: ['links', 'markdown', 'links'] },
      ['links', 'markdown'],
      null,
      true,
    ],
    // The v1 alias: the body in `body` as before; nothing per format, only the hash is extracted.
    ['format: text (v1)', { format: 'text' }, [], 'text', false],
    ['format: raw (v1)', { format: 'raw' }, [], 'raw', false],
    [
      'HEAD keeps only what needs no body',
      { method: 'HEAD', formats: ['markdown', 'raw', 'metadata'] },
      ['raw', 'metadata'],
      null,
      true,
    ],
    ['HEAD with the default', { method: 'HEAD' }, [], null, false],
  ])('%s', (_what, over, formats, legacyBody, explicit) => {
    expect(planScrape(req(over))).toMatchObject({ formats, legacyBody, explicit });
  });

  it('format and formats together are refused', () => {
    const parsed = ScrapeRequestSchema.safeParse({
      url: 'https://example.com/',
      format: 'raw',
      formats: ['raw'],
    });
    expect(parsed.success).toBe(false);
  });

  it('if_none_match and if_modified_since become conditional headers (the date as an HTTP date)', () => {
    const plan = planScrape(req({ if_none_match: '"v1"', if_modified_since: '2025-10-01T12:00:00Z' }));
    expect(plan.conditionalHeaders).toEqual({
      'if-none-match': '"v1"',
      'if-modified-since': 'Wed, 01 Oct 2025 12:00:00 GMT',
    });
    expect(planScrape(req()).conditionalHeaders).toEqual({});
  });
});

describe('scrape results', () => {
  const extracted = { markdown: 'hi', links: [], content_hash: HASH, bytes: 9 };

  it('carries the extracted formats, the hash, the size and the validators', () => {
    const r = scrapeResult(fetched, extracted, planScrape(req({ formats: ['markdown', 'links'] })));
    expect(r).toEqual({
      type: 'scrape',
      url: fetched.url,
      status: 200,
      content_type: 'text/html',
      markdown: 'hi',
      links: [],
      content_hash: HASH,
      bytes: 9,
      decoded_bytes: 9,
      unchanged: false,
      cached: false,
      etag: '"v1"',
      last_modified: 'Wed, 01 Oct 2025 12:00:00 GMT',
    });
  });

  it('a compressed page: `bytes` counts the wire (what a proxy bills), `decoded_bytes` the page', () => {
    const gzipped = { ...fetched, wireBytes: 4 };
    expect(scrapeResult(gzipped, extracted, planScrape(req()))).toMatchObject({ bytes: 4, decoded_bytes: 9 });
  });

  it('the v1 format puts the body in `body`: UTF-8 text, or base64', () => {
    const bare = { content_hash: HASH, bytes: 9 };
    expect(scrapeResult(fetched, bare, planScrape(req({ format: 'text' }))).body).toBe('<p>hi</p>');
    expect(scrapeResult(fetched, bare, planScrape(req({ format: 'raw' }))).body).toBe(
      Buffer.from('<p>hi</p>').toString('base64'),
    );
    expect(scrapeResult(fetched, extracted, planScrape(req()))).not.toHaveProperty('body');
  });

  it('a 304 is unchanged, without content; its hash is the previous one when the request gave it', () => {
    const page = { ...fetched, status: 304, body: Buffer.alloc(0) };
    expect(notModifiedResult(page, req({ previous_hash: HASH }))).toMatchObject({
      status: 304,
      unchanged: true,
      content_hash: HASH,
      bytes: 0,
      etag: '"v1"',
    });
    expect(notModifiedResult(page, req()).content_hash).toBeNull();
  });

  it('previous_hash equal: unchanged, content dropped unless formats were named', () => {
    const r = scrapeResult(fetched, extracted, planScrape(req()));
    const implicit = req({ previous_hash: HASH });
    const dropped = applyPreviousHash(r, implicit, planScrape(implicit));
    expect(dropped).toMatchObject({ unchanged: true, content_hash: HASH, etag: '"v1"', bytes: 9 });
    expect(dropped).not.toHaveProperty('markdown');
    expect(dropped).not.toHaveProperty('links');
    const explicit = req({ formats: ['markdown'], previous_hash: HASH });
    expect(applyPreviousHash(r, explicit, planScrape(explicit))).toEqual({ ...r, unchanged: true });
    const different = req({ previous_hash: `sha256:${'b'.repeat(64)}` });
    expect(applyPreviousHash(r, different, planScrape(different))).toBe(r);
  });
});

describe('scrapeReuseId: which scrapes are the same for max_age_s', () => {
  const id = (over: Record<string, unknown>) => scrapeReuseId(req(over));

  it('the same URL, method, headers and formats are the same, whatever their order or the conditional fields', () => {
    expect(id({ formats: ['links', 'markdown'], headers: { A: '1', b: '2' } })).toBe(
      id({ formats: ['markdown', 'links'], headers: { b: '2', a: '1' }, previous_hash: HASH, max_age_s: 5 }),
    );
    expect(id({})).toBe(id({ formats: ['markdown'] }));
  });

  it.each<[string, Record<string, unknown>]>([
    ['another URL', { url: 'https://example.com/b' }],
    ['another format', { formats: ['text'] }],
    ['only_main_content false', { only_main_content: false }],
    ['a header', { headers: { cookie: 'x' } }],
    ['HEAD', { method: 'HEAD', formats: ['metadata'] }],
    ['the v1 format', { format: 'text' }],
  ])('%s is another scrape', (_what, over) => {
    expect(id(over)).not.toBe(id({}));
  });
});
