import type { JobRecord, ScrapeResult } from '@switchyard/contracts';
import { fixture, startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * What a scrape returns for RAG ingestion, end to end: API + worker (extraction in its worker
 * threads) + Redis + the mock site's fixture pages over loopback HTTP.
 */
let t: TestStack;
let site: MockSite;
let api: Api;

beforeAll(async () => {
  t = await startTestStack();
  site = await startMockSite();
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await site?.close();
  await t?.close();
});

const page = (name: string) => `${site.url}/fixtures/${name}`;

async function scrape(request: Record<string, unknown>): Promise<JobRecord> {
  const res = await api.post<JobRecord>(
    '/v1/jobs',
    { type: 'scrape', lane: 'interactive', request },
    {
      prefer: 'wait=20',
    },
  );
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function result(request: Record<string, unknown>): Promise<ScrapeResult> {
  const job = await scrape(request);
  if (job.status !== 'succeeded' || job.result?.type !== 'scrape')
    throw new Error(`scrape ${job.status}: ${JSON.stringify(job.error)}`);
  return job.result;
}

const FURNITURE = [
  'We use cookies',
  'Accept all',
  'Careers at Harbor',
  'Popular posts',
  'All rights reserved',
];

describe('scrape formats', () => {
  it('an article page gives markdown by default: main text, headings and absolute links; no nav, footer or cookie banner', async () => {
    const r = await result({ url: page('article.html') });
    const md = r.markdown ?? '';
    expect(md.startsWith('# How we halved our p99 latency with connection reuse\n\n')).toBe(true);
    expect(md).toContain('For most of last year, our checkout API had a tail latency problem');
    expect(md).toContain('\n## The symptoms\n');
    expect(md).toContain(`[the cost of TLS handshakes](${site.url}/2024/11/tls-handshakes)`);
    for (const text of FURNITURE) expect(md, text).not.toContain(text);
    expect(md).not.toMatch(/\]\((?!https?:|mailto:)/);
    // Only what was asked (markdown), and always the hash, size and validators.
    expect(r).not.toHaveProperty('body');
    expect(r).not.toHaveProperty('links');
    expect(r.content_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.bytes).toBe(fixture('article.html').byteLength);
    expect(r.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(r.last_modified).toBe('Wed, 01 Oct 2025 12:00:00 GMT');
    expect([r.unchanged, r.cached]).toEqual([false, false]);
  });

  it('links are absolute, without fragments, once each; metadata and text come when asked', async () => {
    const r = await result({ url: page('article.html'), formats: ['text', 'links', 'metadata'] });
    expect(r).not.toHaveProperty('markdown');
    const links = r.links ?? [];
    expect(links).toContain(`${site.url}/2024/11/tls-handshakes`);
    expect(links).toContain(page('article.html')); // "Skip to content" (#main), fragment removed
    expect(links.every((l) => /^https?:\/\/[^#]+$/.test(l))).toBe(true);
    expect(new Set(links).size).toBe(links.length);
    expect(r.metadata).toMatchObject({
      title: 'How we halved our p99 latency with connection reuse',
      language: 'en-GB',
      published_at: '2025-03-14T08:30:00.000Z',
      status: 200,
      content_type: 'text/html; charset=utf-8',
    });
    expect(r.text).toContain('For most of last year');
    for (const text of FURNITURE) expect(r.text, text).not.toContain(text);
  });

  it('only_main_content: false keeps the whole body', async () => {
    const r = await result({ url: page('article.html'), only_main_content: false });
    expect(r.markdown).toContain('All rights reserved');
  });

  it('windows-1252 and Shift_JIS pages are decoded', async () => {
    const fr = await result({ url: page('windows-1252.html') });
    expect(fr.markdown).toContain('l’espresso y coûte rarement plus de 3,50 €');
    const ja = await result({ url: page('shift_jis.html') });
    expect(ja.markdown).toContain('春の京都で、創業三百年の茶室「松風庵」を訪ねました。');
    for (const md of [fr.markdown, ja.markdown]) expect(md).not.toContain('\ufffd');
  });

  it('a PDF gives markdown', async () => {
    const r = await result({ url: page('report.pdf'), formats: ['markdown', 'metadata'] });
    expect(r.markdown).toContain('The p99 latency fell from 842 ms to 410 ms after connection reuse.');
    expect(r.metadata?.title).toBe('Quarterly Latency Report');
  });

  it('a PNG asked for markdown fails unsupported_content_type without a retry; raw works', async () => {
    const failed = await scrape({ url: page('logo.png') });
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'unsupported_content_type' },
    });
    const r = await result({ url: page('logo.png'), formats: ['raw', 'metadata'] });
    expect(Buffer.from(r.raw ?? '', 'base64').equals(fixture('logo.png'))).toBe(true);
    expect(r.metadata?.content_type).toBe('image/png');
  });

  it('the v1 format keeps its meaning: raw is the body in base64 in `body`', async () => {
    const r = await result({ url: page('logo.png'), format: 'raw' });
    expect(Buffer.from(r.body ?? '', 'base64').equals(fixture('logo.png'))).toBe(true);
    expect(r).not.toHaveProperty('raw');
  });

  it('format and formats together are a validation error', async () => {
    const res = await api.post('/v1/jobs', {
      type: 'scrape',
      request: { url: page('article.html'), format: 'text', formats: ['markdown'] },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed' });
  });
});

describe('change detection and reuse', () => {
  it('if_none_match with the page ETag: the site answers 304 and the result is unchanged, without content', async () => {
    const first = await result({ url: page('docs.html') });
    const again = await result({ url: page('docs.html'), if_none_match: first.etag });
    expect(again).toMatchObject({ status: 304, unchanged: true, cached: false, bytes: 0, etag: first.etag });
    expect(again).not.toHaveProperty('markdown');
    const since = await result({ url: page('docs.html'), if_modified_since: first.last_modified });
    expect(since).toMatchObject({ status: 304, unchanged: true });
  });

  it('previous_hash equal to the new hash: unchanged, content left out unless formats named it', async () => {
    const first = await result({ url: page('guide.md') });
    const same = await result({ url: page('guide.md'), previous_hash: first.content_hash });
    expect(same).toMatchObject({ status: 200, unchanged: true, content_hash: first.content_hash });
    expect(same).not.toHaveProperty('markdown');
    const named = await result({
      url: page('guide.md'),
      formats: ['markdown'],
      previous_hash: first.content_hash,
    });
    expect(named).toMatchObject({ unchanged: true, markdown: first.markdown });
    const other = await result({ url: page('guide.md'), previous_hash: `sha256:${'0'.repeat(64)}` });
    expect(other).toMatchObject({ unchanged: false, markdown: first.markdown });
  });

  it('max_age_s: a second scrape within the age is the stored result, cached, with no request to the site and zero cost', async () => {
    const request = { url: page('notes.txt'), formats: ['markdown', 'links'], max_age_s: 600 };
    const first = await result(request);
    expect(first.cached).toBe(false);
    const seen = site.stats().requests;
    const job = await scrape(request);
    expect(site.stats().requests).toBe(seen);
    expect(job.result).toEqual({ ...first, cached: true });
    const logged = await api.get<JobRecord>(`/v1/jobs/${job.id}`);
    expect(logged.body.attempt_log).toMatchObject([{ outcome: 'ok', bytes: 0, proxy_id: null }]);
    expect(logged.body.cost.nano_usd).toBe(0);
    // Other formats are another scrape: the site is asked.
    await result({ ...request, formats: ['markdown'] });
    expect(site.stats().requests).toBe(seen + 1);
  });

  it('max_age_s is per tenant: another tenant fetches the page itself', async () => {
    const request = { url: page('notes.txt'), max_age_s: 600 };
    await result(request);
    const seen = site.stats().requests;
    const other = (await t.tenant()).api;
    const res = await other.post<JobRecord>(
      '/v1/jobs',
      { type: 'scrape', lane: 'interactive', request },
      {
        prefer: 'wait=20',
      },
    );
    expect(res.body.result).toMatchObject({ cached: false });
    expect(site.stats().requests).toBe(seen + 1);
  });
});
