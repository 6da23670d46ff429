import { SwitchyardError } from '@switchyard/contracts';
import { fixture, FIXTURES, type FixtureName } from '@switchyard/mock-upstream';
import { describe, expect, it } from 'vitest';
import { extractContent } from './extract-content.ts';
import { SCRAPE_FORMATS, type ExtractInput } from './formats.ts';
import { sha256 } from './normalize.ts';

function input(name: FixtureName, over: Partial<ExtractInput> = {}): ExtractInput {
  return {
    body: fixture(name),
    contentType: FIXTURES[name],
    url: 'https://docs.tidewater.example/guides/consumer.md',
    status: 200,
    formats: SCRAPE_FORMATS,
    onlyMainContent: true,
    ...over,
  };
}

async function rejection(promise: Promise<unknown>): Promise<SwitchyardError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwitchyardError);
  return err as SwitchyardError;
}

describe('extractContent: bodies that are not HTML', () => {
  it('text/plain passes through as markdown and text; its URLs are its links', async () => {
    const out = await extractContent(input('notes.txt'));
    const source = fixture('notes.txt').toString('utf8').trimEnd();
    expect(out.markdown).toBe(source);
    expect(out.text).toBe(source);
    expect(out.html).toBe(`<pre>${source}</pre>`);
    expect(out.links).toEqual([
      'https://docs.tidewater.example/changelog',
      'https://community.tidewater.example/c/releases',
    ]);
    expect(out.metadata).toMatchObject({
      title: null,
      content_type: 'text/plain; charset=utf-8',
      status: 200,
    });
  });

  it('text/markdown passes through; its first heading is the title, its link targets resolve against the URL', async () => {
    const out = await extractContent(input('guide.md'));
    expect(out.markdown).toBe(fixture('guide.md').toString('utf8').trimEnd());
    expect(out.metadata?.title).toBe('Writing a consumer');
    expect(out.links).toEqual([
      'https://docs.tidewater.example/python/consumer.md',
      'https://docs.tidewater.example/guides/retry-policies',
    ]);
  });

  it('a PDF becomes markdown and text with its known sentences; its title, link and hash come along', async () => {
    const out = await extractContent(input('report.pdf'));
    expect(out.markdown).toBe(
      'Quarterly Latency Report\nCheckout API, first quarter.\n' +
        'The p99 latency fell from 842 ms to 410 ms after connection reuse.\n' +
        'New TLS sessions per second dropped from 1912 to 9.\n\n' +
        'Appendix: method\nOne hour of production traffic was replayed against staging.',
    );
    expect(out.text).toBe(out.markdown);
    expect(out.metadata?.title).toBe('Quarterly Latency Report');
    expect(out.links).toEqual(['https://blog.harbor.example/2025/03/connection-reuse']);
    expect(out.content_hash).not.toBe(sha256(fixture('report.pdf')));
  });

  it('a body served as PDF that is not one fails as upstream_bad_response', async () => {
    const err = await rejection(
      extractContent(input('report.pdf', { body: Buffer.from('%PDF-1.4 garbage') })),
    );
    expect(err.code).toBe('upstream_bad_response');
  });

  it('a PNG gives raw and metadata only; its hash is over the bytes', async () => {
    const out = await extractContent(input('logo.png', { formats: ['raw', 'metadata'] }));
    expect(Buffer.from(out.raw ?? '', 'base64').equals(fixture('logo.png'))).toBe(true);
    expect(out.metadata).toEqual({
      title: null,
      description: null,
      language: null,
      canonical_url: null,
      published_at: null,
      status: 200,
      content_type: 'image/png',
    });
    expect(out.content_hash).toBe(sha256(fixture('logo.png')));
    expect(out.bytes).toBe(fixture('logo.png').byteLength);
  });

  it.each([['markdown'], ['text'], ['html'], ['links']] as const)(
    'asking a PNG for %s is unsupported_content_type, not garbage',
    async (format) => {
      const err = await rejection(extractContent(input('logo.png', { formats: ['raw', format] })));
      expect(err.code).toBe('unsupported_content_type');
      expect(err.status).toBe(422);
      expect(err.message).toBe(`image/png has no ${format}: only raw and metadata can be returned for it`);
    },
  );

  it('without a Content-Type, HTML and PDF are recognised by their first bytes; anything else is unsupported', async () => {
    const html = await extractContent(input('article.html', { contentType: null, formats: ['markdown'] }));
    expect(html.markdown).toContain('# How we halved our p99 latency');
    const pdf = await extractContent(input('report.pdf', { contentType: null, formats: ['text'] }));
    expect(pdf.text).toContain('Quarterly Latency Report');
    const err = await rejection(
      extractContent(input('notes.txt', { contentType: null, formats: ['markdown'] })),
    );
    expect(err.message).toBe(
      'a body without a Content-Type has no markdown: only raw and metadata can be returned for it',
    );
  });

  it('the Content-Language header is the language of last resort', async () => {
    const out = await extractContent(
      input('notes.txt', { formats: ['metadata'], contentLanguage: 'de-DE, en' }),
    );
    expect(out.metadata?.language).toBe('de-DE');
  });
});
