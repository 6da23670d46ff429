import { fixture, FIXTURES, type FixtureName } from '@switchyard/mock-upstream';
import { describe, expect, it } from 'vitest';
import { extractContent } from './extract-content.ts';
import { SCRAPE_FORMATS, type ExtractInput } from './formats.ts';

const URL_OF_ARTICLE = 'https://blog.harbor.example/2025/03/connection-reuse';

function input(name: FixtureName, over: Partial<ExtractInput> = {}): ExtractInput {
  return {
    body: fixture(name),
    contentType: FIXTURES[name],
    url: URL_OF_ARTICLE,
    status: 200,
    formats: SCRAPE_FORMATS,
    onlyMainContent: true,
    ...over,
  };
}

/** Text that only the page furniture carries: nav, cookie banner, sidebar, ads, footer, scripts. */
const FURNITURE = [
  'We use cookies',
  'Accept all',
  'Careers at Harbor',
  'Search the blog',
  'Popular posts',
  'Subscribe to our newsletter',
  'CloudWidget Pro',
  'KubeMax',
  'All rights reserved',
  'Related reading',
  'Share this post',
  'Please enable JavaScript',
];
const NEVER = [
  'TRACKING_MARKER',
  'SCRIPT_MARKER',
  'STYLE_MARKER',
  'NOSCRIPT_MARKER',
  'HIDDEN_MARKER',
  'DISPLAY_NONE_MARKER',
];

describe('extractContent: a boilerplate-heavy article', async () => {
  const out = await extractContent(input('article.html'));
  const markdown = out.markdown ?? '';

  it('keeps the article: its title as the heading, its paragraphs, its closing words', () => {
    expect(markdown.startsWith('# How we halved our p99 latency with connection reuse\n\n')).toBe(true);
    expect(markdown).toContain('For most of last year, our checkout API had a tail latency problem');
    expect(markdown).toContain('Thanks to the inventory team for their patience');
  });

  it('drops navigation, cookie banner, sidebar, ads, share and newsletter boxes, comments, footer', () => {
    for (const text of FURNITURE) expect(markdown, text).not.toContain(text);
    for (const text of FURNITURE) expect(out.text, text).not.toContain(text);
  });

  it('never lets script, style, noscript or hidden text through, in any format', () => {
    for (const marker of NEVER) {
      for (const format of [out.markdown, out.text, out.html]) expect(format).not.toContain(marker);
    }
  });

  it('writes headings, nested lists, the table, the code block and blockquotes as markdown', () => {
    expect(markdown).toContain('\n## The symptoms\n');
    expect(markdown).toContain('\n### Measuring handshakes\n');
    expect(markdown).toContain(
      '- CPU on the inventory hosts was dominated by handshake work:\n' +
        '  1. ECDHE key exchange, about 41% of samples;\n' +
        '  2. certificate chain verification, about 17%;',
    );
    expect(markdown).toContain(
      '| Configuration | p50 | p99 | New TLS sessions/s |\n| --- | --- | --- | --- |',
    );
    expect(markdown).toContain('| Shared agent, 64 connections | 29 ms | 410 ms | 9');
    expect(markdown).toContain("```ts\nimport { Agent } from 'undici';\n");
    expect(markdown).toContain('if (retries < 3 && status >= 500) {\n  await retry();\n}\n```');
    expect(markdown).toContain('> If the number of new connections tracks the number of requests');
    expect(markdown).toContain('`TIME_WAIT`');
  });

  it('writes links as markdown with absolute URLs, relative ones resolved against the page', () => {
    expect(markdown).toContain(
      '[the cost of TLS handshakes](https://blog.harbor.example/2024/11/tls-handshakes)',
    );
    expect(markdown).toContain(
      '[our write-up of that race](https://blog.harbor.example/2024/06/keep-alive-races)',
    );
    expect(markdown).toContain(
      '[Node.js documentation for `http.Agent`](https://nodejs.org/api/http.html#class-httpagent)',
    );
    expect(markdown).not.toMatch(/\]\((?!https?:|mailto:)/);
  });

  it('lists every link of the page: absolute, without fragments, once each, in document order', () => {
    const links = out.links ?? [];
    expect(links.slice(0, 4)).toEqual([
      'https://blog.harbor.example/legal/cookies',
      URL_OF_ARTICLE, // "Skip to content" (#main): the page itself, fragment removed
      'https://blog.harbor.example/',
      'https://blog.harbor.example/topics/infrastructure',
    ]);
    expect(links).toContain('https://nodejs.org/api/http.html');
    expect(links).not.toContain('https://nodejs.org/api/http.html#class-httpagent');
    expect(links.every((l) => /^https?:\/\/[^#]+$/.test(l))).toBe(true);
    expect(new Set(links).size).toBe(links.length);
    expect(links.indexOf('https://blog.harbor.example/2024/11/tls-handshakes')).toBeLessThan(
      links.indexOf('https://blog.harbor.example/2024/06/keep-alive-races'),
    );
    expect(links.at(-1)).toBe('https://blog.harbor.example/rss.xml');
    expect(links.some((l) => l.startsWith('mailto:'))).toBe(false);
  });

  it('reads the metadata from the head and JSON-LD', () => {
    expect(out.metadata).toEqual({
      title: 'How we halved our p99 latency with connection reuse',
      description:
        'A field report on keep-alive pools, head-of-line blocking and the three config lines that took our tail latency from 840 ms to 410 ms.',
      language: 'en-GB',
      canonical_url: URL_OF_ARTICLE,
      published_at: '2025-03-14T08:30:00.000Z',
      status: 200,
      content_type: 'text/html; charset=utf-8',
    });
    expect(out.bytes).toBe(fixture('article.html').byteLength);
  });

  it('gives text without markup and html of the main content only', () => {
    expect(out.text).toContain(
      'How we halved our p99 latency with connection reuse\n\nFor most of last year',
    );
    expect(out.text).toContain('Agent per request\t38 ms\t842 ms\t1,912');
    expect(out.text).not.toMatch(/\]\(|^#|```|\*\*/m);
    expect(out.html).toMatch(/^<h1>How we halved/);
    expect(out.html).toContain('<table');
    expect(out.html).toContain('href="https://blog.harbor.example/2024/11/tls-handshakes"');
    expect(out.html).not.toMatch(/<(script|style|nav|footer|DIV|P)\b/);
  });

  it('returns the body as received in raw, base64', () => {
    expect(Buffer.from(out.raw ?? '', 'base64').equals(fixture('article.html'))).toBe(true);
  });
});

describe('extractContent: a documentation page', async () => {
  const out = await extractContent(
    input('docs.html', { url: 'https://docs.tidewater.example/guides/retry-policies' }),
  );
  const markdown = out.markdown ?? '';

  it('keeps the page body and drops the sidebar, the table of contents, the pager and the footer', () => {
    expect(markdown.startsWith('# Retry policies\n\nA **retry policy** tells Tidewater')).toBe(true);
    for (const text of [
      'Getting started',
      'On this page',
      'Edit this page',
      'Was this page helpful',
      'Built with Docusaurus',
      'Tidewater 3.2 is out',
    ]) {
      expect(markdown, text).not.toContain(text);
    }
  });

  it('keeps code blocks with their language, inside list items too, and the options table with inline code', () => {
    expect(markdown).toContain('```yaml\nqueues:\n  payments:\n    retry:\n      attempts: 8\n');
    expect(markdown).toContain(
      '3. Publish as usual:\n\n   ```shell\n   tide publish payments --header x-retry-attempts=2 ./event.json\n   ```',
    );
    expect(markdown).toContain(
      '| `backoff` | `fixed` \\| `exponential` | `exponential` | How the delay grows between attempts. |',
    );
    expect(markdown).toContain(
      '2. Optionally set `x-retry-max-delay` too:\n   - a duration such as `30s`, or\n',
    );
  });

  it('resolves links against the page URL and keeps the canonical URL', () => {
    expect(markdown).toContain('[dead-letter queue](https://docs.tidewater.example/guides/dead-letters)');
    expect(out.metadata?.canonical_url).toBe('https://docs.tidewater.example/guides/retry-policies');
    // "Last updated" is not a publication date, and the page states none.
    expect(out.metadata?.published_at).toBeNull();
    expect(out.metadata?.title).toBe('Retry policies | Tidewater Docs');
  });
});

describe('extractContent: only_main_content false', async () => {
  const out = await extractContent(input('article.html', { onlyMainContent: false }));

  it('converts the whole body: navigation, sidebar and footer included', () => {
    for (const text of ['We use cookies', 'Careers at Harbor', 'Popular posts', 'All rights reserved']) {
      expect(out.markdown).toContain(text);
    }
    expect(out.markdown).toContain('# How we halved our p99 latency with connection reuse');
  });

  it('still removes scripts, styles and hidden elements', () => {
    for (const marker of NEVER) expect(out.markdown).not.toContain(marker);
  });
});

describe('extractContent: formats', () => {
  it('returns only the requested formats, with content_hash and bytes always', async () => {
    const out = await extractContent(input('article.html', { formats: ['links'] }));
    expect(Object.keys(out).sort()).toEqual(['bytes', 'content_hash', 'links']);
    expect(out.content_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const none = await extractContent(input('article.html', { formats: [] }));
    expect(none).toEqual({ content_hash: out.content_hash, bytes: out.bytes });
  });

  it('honours <base href> for relative links', async () => {
    const html =
      '<html><head><base href="https://cdn.example/docs/"></head><body><a href="a.html">A</a> <a href="/b">B</a></body></html>';
    const out = await extractContent({
      ...input('article.html'),
      body: Buffer.from(html),
      formats: ['links'],
    });
    expect(out.links).toEqual(['https://cdn.example/docs/a.html', 'https://cdn.example/b']);
  });
});
