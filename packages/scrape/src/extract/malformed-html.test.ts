import { describe, expect, it } from 'vitest';
import { MAX_DEPTH } from './dom.ts';
import { extractContent } from './extract-content.ts';
import type { ExtractInput } from './formats.ts';
import { sha256 } from './normalize.ts';

const extract = (html: string | Uint8Array, over: Partial<ExtractInput> = {}) =>
  extractContent({
    body: typeof html === 'string' ? Buffer.from(html) : html,
    contentType: 'text/html',
    url: 'https://site.example/a/page.html',
    status: 200,
    formats: ['markdown', 'metadata', 'links'],
    onlyMainContent: true,
    ...over,
  });

describe('extractContent: HTML as sites really send it', () => {
  it.each([true, false])(
    'a page that leaves out <html>, <head> and <body> is read as a browser reads it (main content only: %s)',
    async (onlyMainContent) => {
      const out = await extract(
        '<!doctype html><title>Short page</title><meta name="description" content="A short one.">' +
          '<h1>Hello</h1><p>Body text with <a href="next.html">a link</a>.</p>',
        { onlyMainContent },
      );
      expect(out.markdown).toBe('# Hello\n\nBody text with [a link](https://site.example/a/next.html).');
      expect(out.metadata).toMatchObject({ title: 'Short page', description: 'A short one.' });
      expect(out.links).toEqual(['https://site.example/a/next.html']);
    },
  );

  it('keeps the attributes of the tags that are there (<html lang> without a <body>)', async () => {
    const out = await extract('<html lang="sv"><head><title>T</title></head><p>Hej då.</p></html>');
    expect(out.markdown).toBe('Hej då.');
    expect(out.metadata?.language).toBe('sv');
  });

  it('a fragment or bare text is content too', async () => {
    expect((await extract('just some words')).markdown).toBe('just some words');
    expect((await extract('<h2>A</h2><ul><li>one<li>two</ul>')).markdown).toBe('## A\n\n- one\n- two');
  });

  it('an empty body gives empty markdown, hashed like any other', async () => {
    const out = await extract('');
    expect(out.markdown).toBe('');
    expect(out.content_hash).toBe(sha256(''));
    expect(out.metadata?.title).toBeNull();
  });

  it('bytes that are not HTML at all, served as text/html, give text rather than an error', async () => {
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256);
    const out = await extract(noise);
    expect(typeof out.markdown).toBe('string');
  });

  it(`elements nested thousands deep become text below depth ${MAX_DEPTH}: no stack overflow`, async () => {
    const deep = `<html><body>${'<div><span>level</span>'.repeat(5000)}deep text${'</div>'.repeat(5000)}</body></html>`;
    for (const onlyMainContent of [true, false]) {
      const out = await extract(deep, { onlyMainContent, formats: ['markdown', 'text', 'html'] });
      expect(out.markdown).toContain('deep text');
      expect(out.text).toContain('deep text');
    }
  });
});
