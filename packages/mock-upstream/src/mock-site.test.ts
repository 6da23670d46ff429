import { afterEach, describe, expect, it } from 'vitest';
import { fixture, FIXTURES, longArticle, type FixtureName } from './fixtures.ts';
import { startMockSite, type MockSite, type MockSiteOptions } from './mock-site.ts';
import { send } from './test-client.ts';

let site: MockSite | undefined;
afterEach(async () => {
  await site?.close();
  site = undefined;
});
async function start(opts: MockSiteOptions = {}): Promise<MockSite> {
  site = await startMockSite(opts);
  return site;
}

describe('mock site', () => {
  it('a page is deterministic HTML with a title, a paragraph and links', async () => {
    const s = await start();
    const a = await send(`${s.url}/page/7`);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(a.body).toContain('<title>Page 7</title>');
    expect(a.body).toMatch(/<p>[a-z ]+\.<\/p>/);
    expect(a.body).toContain('<a href="/page/8">');
    expect((await send(`${s.url}/page/7`)).body).toBe(a.body);
    expect((await send(`${s.url}/page/8`)).body).not.toBe(a.body);
    expect((await send(`${s.url}/page/x`)).status).toBe(404);
  });

  it('big returns exactly N bytes, with Content-Length or chunked', async () => {
    const s = await start();
    const sized = await send(`${s.url}/big?bytes=200000`);
    expect([sized.status, sized.headers['content-length'], sized.body.length]).toEqual([
      200,
      '200000',
      200_000,
    ]);
    const chunked = await send(`${s.url}/big?bytes=70000&chunked=1`);
    expect(chunked.headers['content-length']).toBeUndefined();
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(chunked.body.length).toBe(70_000);
    expect((await send(`${s.url}/big`)).status).toBe(400);
  });

  it('slow answers only after the delay', async () => {
    const s = await start();
    const t = performance.now();
    const reply = await send(`${s.url}/slow?ms=120`);
    expect(reply.status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(115);
  });

  it('redirect answers 302 (or the asked status) with Location', async () => {
    const s = await start();
    const reply = await send(`${s.url}/redirect?to=${encodeURIComponent('/page/2')}`);
    expect([reply.status, reply.headers.location]).toEqual([302, '/page/2']);
    const permanent = await send(`${s.url}/redirect?to=http://169.254.169.254/&status=301`);
    expect([permanent.status, permanent.headers.location]).toEqual([301, 'http://169.254.169.254/']);
  });

  it('status/:code answers with that status', async () => {
    const s = await start();
    for (const code of [200, 404, 500, 503])
      expect((await send(`${s.url}/status/${code}`)).status).toBe(code);
    expect((await send(`${s.url}/status/99`)).status).toBe(400);
  });

  it('robots.txt is configurable and can be removed', async () => {
    const s = await start({ robotsTxt: 'User-agent: *\nDisallow: /\n' });
    expect((await send(`${s.url}/robots.txt`)).body).toBe('User-agent: *\nDisallow: /\n');
    s.setRobotsTxt(null);
    expect((await send(`${s.url}/robots.txt`)).status).toBe(404);
    s.setRobotsTxt('User-agent: *\nAllow: /\n');
    expect((await send(`${s.url}/robots.txt`)).body).toContain('Allow: /');
  });

  it('an IP over its per-second limit gets 429 with Retry-After while another IP is served', async () => {
    const s = await start({ rateLimit: { perIpPerSecond: 2, retryAfterSeconds: 9 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await send(`${s.url}/page/1`, { localAddress: '127.0.0.12' }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[2]?.headers['retry-after']).toBe('9');
    expect((await send(`${s.url}/page/1`, { localAddress: '127.0.0.13' })).status).toBe(200);
    expect(s.stats()).toEqual({
      requests: 4,
      byIp: {
        '127.0.0.12': { requests: 3, ok: 2, rateLimited: 1, blocked: 0 },
        '127.0.0.13': { requests: 1, ok: 1, rateLimited: 0, blocked: 0 },
      },
    });
    s.resetStats();
    expect(s.stats()).toEqual({ requests: 0, byIp: {} });
  });

  it('a blocked IP sees a 403 challenge page instead of the content', async () => {
    const s = await start();
    s.blockIp('127.0.0.40');
    const blocked = await send(`${s.url}/page/1`, { localAddress: '127.0.0.40' });
    expect(blocked.status).toBe(403);
    expect(blocked.headers['cf-mitigated']).toBe('challenge');
    expect(blocked.body).toContain('Just a moment...');
    expect(blocked.body).not.toContain('Page 1');
    expect((await send(`${s.url}/page/1`, { localAddress: '127.0.0.41' })).status).toBe(200);
    expect(s.stats().byIp['127.0.0.40']).toMatchObject({ requests: 1, ok: 0, blocked: 1 });
    s.unblockIp('127.0.0.40');
    expect((await send(`${s.url}/page/1`, { localAddress: '127.0.0.40' })).status).toBe(200);
  });

  it('serves every fixture byte for byte with its content type, charset where the header states it', async () => {
    const s = await start();
    for (const [name, type] of Object.entries(FIXTURES)) {
      const res = await fetch(`${s.url}/fixtures/${name}`);
      expect([name, res.status, res.headers.get('content-type')]).toEqual([name, 200, type]);
      expect(Buffer.from(await res.arrayBuffer()).equals(fixture(name as FixtureName))).toBe(true);
    }
    // The one page whose header names no charset: its <meta charset> has to decide.
    expect(FIXTURES['shift_jis.html']).toBe('text/html');
    expect(fixture('shift_jis.html').toString('latin1')).toContain('<meta charset="Shift_JIS">');
    expect((await fetch(`${s.url}/fixtures/nope.html`)).status).toBe(404);
    expect((await fetch(`${s.url}/fixtures/..%2Fpackage.json`)).status).toBe(404);
  });

  it('fixtures carry an ETag and Last-Modified, and answer a matching conditional request 304 with no body', async () => {
    const s = await start();
    const first = await send(`${s.url}/fixtures/article.html`);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(first.headers['last-modified']).toBe('Wed, 01 Oct 2025 12:00:00 GMT');
    const again = await send(`${s.url}/fixtures/article.html`, { headers: { 'if-none-match': etag } });
    expect([again.status, again.body, again.headers.etag]).toEqual([304, '', etag]);
    const since = { 'if-modified-since': String(first.headers['last-modified']) };
    expect((await send(`${s.url}/fixtures/article.html`, { headers: since })).status).toBe(304);
    const stale = await send(`${s.url}/fixtures/article.html`, { headers: { 'if-none-match': '"old"' } });
    expect([stale.status, stale.body.length]).toEqual([200, first.body.length]);
    expect(s.stats().requests).toBe(4);
  });

  it('longArticle grows the article fixture to the asked size, boilerplate and all', () => {
    const page = longArticle(200_000);
    expect(page.length).toBeGreaterThanOrEqual(200_000);
    expect(page.length).toBeLessThan(215_000);
    expect(page).toContain('We use cookies');
    expect(page.match(/<h2 id="r\d+-benchmarks">/g)?.length).toBeGreaterThan(10);
  });

  it('a site can listen on another loopback address', async () => {
    const s = await start({ host: '127.0.0.5' });
    expect(s.url).toBe(`http://127.0.0.5:${s.port}`);
    expect((await send(`${s.url}/page/0`)).status).toBe(200);
  });

  it('close() ends a request still waiting on a slow page', async () => {
    const s = await start();
    const pending = send(`${s.url}/slow?ms=60000`);
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    await expect(pending).rejects.toThrow();
  });
});
