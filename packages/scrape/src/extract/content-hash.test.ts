import { fixture } from '@switchyard/mock-upstream';
import { describe, expect, it } from 'vitest';
import { extractContent } from './extract-content.ts';
import type { ExtractInput } from './formats.ts';
import { markdownHash, normalizeForHash, tidy } from './normalize.ts';

const article = fixture('article.html').toString('utf8');

const extract = (html: string, over: Partial<ExtractInput> = {}) =>
  extractContent({
    body: Buffer.from(html),
    contentType: 'text/html; charset=utf-8',
    url: 'https://blog.harbor.example/2025/03/connection-reuse',
    status: 200,
    formats: ['markdown'],
    onlyMainContent: true,
    ...over,
  });

/** The same page served again with its whitespace disturbed: CRLF, re-indented, spaces doubled. */
function jitter(html: string): string {
  const [before, code, after] = html.split(/(<pre>[\s\S]*?<\/pre>)/);
  const shake = (s: string) =>
    s.replace(/\n/g, '\r\n    ').replace(/> </g, '>  \n  <').replace(/\. /g, '.  ');
  return `${shake(before ?? '')}${code ?? ''}${shake(after ?? '')}`;
}

describe('content_hash', () => {
  it('is the same for the same content fetched twice with whitespace jitter', async () => {
    const a = await extract(article);
    const b = await extract(jitter(article));
    expect(jitter(article)).not.toBe(article);
    expect(b.content_hash).toBe(a.content_hash);
  });

  it('ignores what is not content: the boilerplate around it and the page chrome', async () => {
    const a = await extract(article);
    const moreAds = article.replace(
      '<aside class="sidebar"',
      '<aside class="sidebar"><p>A new ad: SuperCloud!</p>',
    );
    const newCookieText = article.replace(
      'We use cookies to improve',
      'We and our 812 partners use cookies to improve',
    );
    expect((await extract(moreAds)).content_hash).toBe(a.content_hash);
    expect((await extract(newCookieText)).content_hash).toBe(a.content_hash);
  });

  it('changes when the content changes, even by one word or one number', async () => {
    const a = await extract(article);
    const edited = await extract(article.replace('<td>410 ms</td>', '<td>411 ms</td>'));
    const word = await extract(article.replace('Sixty-four connections', 'Sixty-five connections'));
    expect(new Set([a.content_hash, edited.content_hash, word.content_hash]).size).toBe(3);
  });

  it('is sha256 of the normalized markdown, whether or not markdown was asked for', async () => {
    const withMarkdown = await extract(article);
    const withoutMarkdown = await extract(article, { formats: ['links'] });
    expect(withoutMarkdown.content_hash).toBe(withMarkdown.content_hash);
    expect(withMarkdown.content_hash).toBe(markdownHash(withMarkdown.markdown ?? ''));
  });

  it.each([
    ['NFC', 'Cafe\u0301', 'Café'],
    ['line ends', 'a\r\nb\rc', 'a\nb\nc'],
    ['indentation and trailing spaces', '  - a  \n\t- b', '- a\n- b'],
    ['runs of spaces and no-break spaces', 'a  \u00a0 b', 'a b'],
    ['blank lines', 'a\n\n\n\nb\n', 'a\nb'],
    ['zero-width characters and BOMs', '\ufeffa\u200bb', 'ab'],
  ])('normalization: %s', (_what, a, b) => {
    expect(normalizeForHash(a)).toBe(normalizeForHash(b));
  });

  it('keeps words, punctuation, markup and line breaks significant', () => {
    expect(normalizeForHash('# a')).not.toBe(normalizeForHash('a'));
    expect(normalizeForHash('a\nb')).not.toBe(normalizeForHash('a b'));
    expect(normalizeForHash('a, b')).not.toBe(normalizeForHash('a b'));
  });

  it('tidy (what markdown and text return) keeps indentation but drops trailing spaces and extra blank lines', () => {
    expect(tidy('\n\n- a  \n  - b\r\n\n\n\nc\n\n')).toBe('- a\n  - b\n\nc');
  });
});
