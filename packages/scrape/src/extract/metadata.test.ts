import { describe, expect, it } from 'vitest';
import { parseDocument } from './dom.ts';
import type { ExtractInput } from './formats.ts';
import { htmlMetadata, isoDate } from './metadata.ts';

const INPUT: ExtractInput = {
  body: new Uint8Array(),
  contentType: 'text/html',
  url: 'https://news.example/world/story.html',
  status: 203,
  formats: ['metadata'],
  onlyMainContent: true,
  contentLanguage: 'nl',
};

const metadataOf = (head: string, body = '', htmlAttributes = '') =>
  htmlMetadata(
    parseDocument(`<!doctype html><html ${htmlAttributes}><head>${head}</head><body>${body}</body></html>`),
    INPUT,
    new URL(INPUT.url),
  );

describe('page metadata', () => {
  it('title: og:title first, then <title>, whitespace collapsed', () => {
    expect(metadataOf('<title> A\n  page </title>').title).toBe('A page');
    expect(metadataOf('<title>A page | Site</title><meta property="og:title" content="A page">').title).toBe(
      'A page',
    );
    expect(metadataOf('').title).toBeNull();
  });

  it('description: meta description first, then og:description', () => {
    expect(
      metadataOf('<meta property="og:description" content="og"><meta name="Description" content="meta">')
        .description,
    ).toBe('meta');
    expect(metadataOf('<meta property="og:description" content="og">').description).toBe('og');
  });

  it('language: <html lang>, then http-equiv content-language, then the Content-Language header', () => {
    expect(metadataOf('', '', 'lang="pt-BR"').language).toBe('pt-BR');
    expect(metadataOf('<meta http-equiv="content-language" content="fr, en">').language).toBe('fr');
    expect(metadataOf('').language).toBe('nl');
  });

  it('canonical_url: <link rel=canonical>, made absolute; other schemes ignored', () => {
    expect(metadataOf('<link rel="canonical" href="../europe/story.html">').canonical_url).toBe(
      'https://news.example/europe/story.html',
    );
    expect(metadataOf('<link rel="alternate canonical" href="https://news.example/s">').canonical_url).toBe(
      'https://news.example/s',
    );
    expect(metadataOf('<link rel="canonical" href="javascript:void(0)">').canonical_url).toBeNull();
    expect(metadataOf('').canonical_url).toBeNull();
  });

  it.each([
    [
      'article:published_time',
      '<meta property="article:published_time" content="2024-02-29T23:30:00-05:00">',
      '',
      '2024-03-01T04:30:00.000Z',
    ],
    [
      'JSON-LD datePublished (nested in @graph)',
      '<script type="application/ld+json">{"@graph":[{"@type":"WebSite"},{"@type":"NewsArticle","datePublished":"2023-07-01"}]}</script>',
      '',
      '2023-07-01',
    ],
    [
      'JSON-LD in an array, after a broken block',
      '<script type="application/ld+json">{oops</script><script type="application/ld+json">[{"datePublished":"2022-01-02T03:04:05Z"}]</script>',
      '',
      '2022-01-02T03:04:05.000Z',
    ],
    ['itemprop datePublished', '<meta itemprop="datePublished" content="2021-05-06">', '', '2021-05-06'],
    [
      'a <time datetime> in the article',
      '',
      '<article><time datetime="2020-10-11T12:00:00Z">Oct 11</time></article>',
      '2020-10-11T12:00:00.000Z',
    ],
    [
      'a <time> outside any article does not count',
      '',
      '<footer><time datetime="2020-10-11">Oct 11</time></footer>',
      null,
    ],
    [
      'an unparseable date is null',
      '<meta property="article:published_time" content="last Tuesday">',
      '',
      null,
    ],
    ['nothing stated', '', '<p>Hello</p>', null],
  ])('published_at from %s', (_source, head, body, expected) => {
    expect(metadataOf(head, body).published_at).toBe(expected);
  });

  it('status and content_type are the response’s', () => {
    expect(metadataOf('')).toMatchObject({ status: 203, content_type: 'text/html' });
  });

  it.each([
    ['2024-05-02', '2024-05-02'],
    ['2024-05-02T10:00:00+02:00', '2024-05-02T08:00:00.000Z'],
    ['Thu, 02 May 2024 10:00:00 GMT', '2024-05-02T10:00:00.000Z'],
    ['2024-13-45', null],
    ['1', null],
    ['', null],
  ])('isoDate(%j) = %j', (value, expected) => {
    expect(isoDate(value)).toBe(expected);
  });
});
