import { afterEach, describe, expect, it } from 'vitest';
import { startMockSite, type MockSite } from './mock-site.ts';
import { maxConcurrency, startGaps } from './request-log.ts';
import { send } from './test-client.ts';

let site: MockSite | undefined;
afterEach(async () => {
  await site?.close();
  site = undefined;
});

describe('mock site request log, outages and robots.txt status', () => {
  it('logs every request with its path, source IP, start, end and status, in arrival order', async () => {
    site = await startMockSite({ host: '127.0.0.9' });
    await send(`${site.url}/page/1?x=2`);
    await send(`${site.url}/slow?ms=120`);
    await send(`${site.url}/private/secret`);
    const log = site.requestLog();
    expect(log.map((r) => [r.path, r.status, r.ip])).toEqual([
      ['/page/1?x=2', 200, '127.0.0.1'],
      ['/slow?ms=120', 200, '127.0.0.1'],
      ['/private/secret', 404, '127.0.0.1'],
    ]);
    expect(log[1]!.end! - log[1]!.start).toBeGreaterThanOrEqual(110);
    site.clearRequestLog();
    expect(site.requestLog()).toEqual([]);
  });

  it('computes the observed concurrency and the gaps between starts', async () => {
    site = await startMockSite();
    await Promise.all([send(`${site.url}/slow?ms=150`), send(`${site.url}/slow?ms=150`)]);
    await new Promise((r) => setTimeout(r, 60));
    await send(`${site.url}/page/1`);
    const log = site.requestLog();
    expect(maxConcurrency(log)).toBe(2);
    const gaps = startGaps(log);
    expect(gaps).toHaveLength(2);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
  });

  it('serves 503 with Retry-After on demand, for a number of requests or until cleared', async () => {
    site = await startMockSite();
    site.setOutage({ retryAfterSeconds: 3, count: 2 });
    const a = await send(`${site.url}/page/1`);
    const b = await send(`${site.url}/robots.txt`);
    expect([a.status, a.headers['retry-after'], b.status]).toEqual([503, '3', 503]);
    expect((await send(`${site.url}/page/1`)).status).toBe(200);
    site.setOutage({ status: 429 });
    expect((await send(`${site.url}/page/2`)).status).toBe(429);
    expect((await send(`${site.url}/page/3`)).status).toBe(429);
    site.setOutage(null);
    expect((await send(`${site.url}/page/3`)).status).toBe(200);
  });

  it('robots.txt can carry Crawl-delay, or answer a status of its own', async () => {
    site = await startMockSite({ robotsTxt: 'User-agent: *\nCrawl-delay: 2\nDisallow: /private/\n' });
    expect((await send(`${site.url}/robots.txt`)).body).toContain('Crawl-delay: 2');
    site.setRobotsStatus(500);
    expect((await send(`${site.url}/robots.txt`)).status).toBe(500);
    expect((await send(`${site.url}/page/1`)).status).toBe(200);
    site.setRobotsStatus(null);
    expect((await send(`${site.url}/robots.txt`)).status).toBe(200);
  });
});
