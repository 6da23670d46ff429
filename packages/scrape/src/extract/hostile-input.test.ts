import { describe, expect, it } from 'vitest';
import { extractContent } from './extract-content.ts';
import type { ExtractInput } from './formats.ts';

// Bodies built to make a backtracking regex take minutes (quadratic in the run length): each must
// come back at once. The suite's test timeout is the bound; a regression shows as a timeout.

const RUN = 300_000;
const extract = (body: string, contentType: string, over: Partial<ExtractInput> = {}) =>
  extractContent({
    body: Buffer.from(body),
    contentType,
    url: 'https://site.example/',
    status: 200,
    formats: ['markdown', 'text', 'links', 'metadata'],
    onlyMainContent: true,
    ...over,
  });

describe('extractContent: hostile input', () => {
  it('text/plain with a line of spaces before its last word', async () => {
    const out = await extract(`start${' '.repeat(RUN)}end   \n\n\n\n`, 'text/plain');
    expect(out.markdown?.endsWith('end')).toBe(true);
  });

  it('text/plain with a long run of newlines inside', async () => {
    const out = await extract(`a${'\n'.repeat(RUN)}b`, 'text/plain');
    expect(out.markdown).toBe('a\n\nb');
  });

  it('a markdown heading line with a long run of spaces and #', async () => {
    const out = await extract(`# Title${' '.repeat(RUN)}#${'#'.repeat(RUN)}x\n`, 'text/markdown');
    expect(out.metadata?.title?.startsWith('Title')).toBe(true);
  });

  it('a URL followed by a long run of dots', async () => {
    const out = await extract(`see https://a.example/x${'.'.repeat(RUN)}`, 'text/plain');
    expect(out.links).toEqual(['https://a.example/x']);
  });

  it('a style attribute with a long run of spaces', async () => {
    const out = await extract(`<p style="display:none${' '.repeat(RUN)}x">shown</p><p>body</p>`, 'text/html');
    expect(out.markdown).toContain('shown');
  });

  it('a paragraph of &nbsp; (which HTML does not collapse)', async () => {
    const out = await extract(`<p>a${'&nbsp;'.repeat(RUN)}b</p>`, 'text/html');
    expect(out.markdown?.startsWith('a')).toBe(true);
    expect(out.markdown?.endsWith('b')).toBe(true);
  });

  it('a code block in a list item with a long run of blank lines', async () => {
    const html = `<ul><li>item<pre><code>a${'\n'.repeat(RUN)}b</code></pre></li></ul>`;
    const out = await extract(html, 'text/html', { onlyMainContent: false });
    expect(out.markdown).toContain('- item');
  });
});
