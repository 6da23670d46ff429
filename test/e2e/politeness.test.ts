import type { JobRecord } from '@switchyard/contracts';
import {
  maxConcurrency,
  startGaps,
  startMockSite,
  type MockSite,
  type SiteRequest,
} from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

const INTERVAL_MS = 250;
const MAX_CONCURRENCY = 2;
/**
 * Redis keeps reported sends at least INTERVAL_MS apart (the worker reports right before undici
 * sends); the site sees each one a little after its report (the Redis reply, undici's dispatch, the
 * proxy hop), so a gap at the site can be shorter by the difference of two such delays, however
 * long the worker took between grant and send. The average gap has no such allowance.
 */
const DELIVERY_JITTER_MS = 30;

let fleet: ProxyFleet;
let site: MockSite;
let down: MockSite;
let slowSite: MockSite;
let t: TestStack;
let api: Api;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 3, firstHostOctet: 61 });
  site = await startMockSite({ host: '127.0.0.60', robotsTxt: 'User-agent: *\nDisallow: /private/\n' });
  down = await startMockSite({ host: '127.0.0.65' });
  slowSite = await startMockSite({ host: '127.0.0.66', robotsTxt: 'User-agent: *\nCrawl-delay: 1\n' });
  t = await startTestStack({
    worker: false,
    config: {
      scrape: {
        egress: 'pool',
        robots: { unreachableRetryMs: 1_000 },
        perHost: { maxConcurrency: MAX_CONCURRENCY, minIntervalMs: INTERVAL_MS },
      },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url, maxConcurrency: 8 })),
      pool: { interactiveReserve: 0 },
      worker: { concurrency: { interactive: 4, batch: 8 } },
    },
  });
  api = (await t.tenant()).api;
  const cfg = writeConfigFile(t.config);
  workers.push(...(await Promise.all(Array.from({ length: 4 }, () => startWorkerProcess(cfg)))));
});
afterAll(async () => {
  for (const w of workers) w.terminate('SIGKILL');
  await t?.close();
  await site?.close();
  await down?.close();
  await slowSite?.close();
  await fleet?.stop();
});

const scrape = async (url: string, client = api) =>
  (await client.post<JobRecord>('/v1/jobs', { type: 'scrape', lane: 'batch', request: { url } })).body.id;
const finished = async (id: string, client = api) =>
  (await client.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body;

/** The site-side limits: at most MAX_CONCURRENCY at once, starts an interval apart. */
function expectPolite(log: SiteRequest[], interval = INTERVAL_MS): void {
  expect(maxConcurrency(log)).toBeLessThanOrEqual(MAX_CONCURRENCY);
  const gaps = startGaps(log);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(interval - DELIVERY_JITTER_MS);
  // On average the host never saw more than one start per interval.
  const span = log.at(-1)!.start - log[0]!.start;
  expect(span).toBeGreaterThanOrEqual((log.length - 1) * interval);
}

describe('robots.txt and per-host politeness with 4 workers and 3 proxies', () => {
  it('disallowed paths never reach the site; concurrency and start intervals at the site hold', async () => {
    site.clearRequestLog();
    const urls = Array.from({ length: 24 }, (_, i) =>
      i % 4 === 3 ? `${site.url}/private/doc-${i}` : `${site.url}/page/${i}`,
    );
    const ids = await Promise.all(urls.map((u) => scrape(u)));
    const jobs = await Promise.all(ids.map((id) => finished(id)));
    for (const [i, job] of jobs.entries()) {
      if (urls[i]!.includes('/private/')) {
        expect(job).toMatchObject({ status: 'failed', attempts: 0, error: { code: 'robots_disallowed' } });
      } else expect(job).toMatchObject({ status: 'succeeded', attempts: 1 });
    }
    const log = site.requestLog();
    expect(log.filter((r) => r.path.startsWith('/private/'))).toEqual([]);
    // robots.txt was fetched once for the whole fleet, and it counted as a request to the host.
    expect(log.filter((r) => r.path === '/robots.txt')).toHaveLength(1);
    expect(log).toHaveLength(1 + 18);
    // The requests left through the proxies, and still the host saw the fleet's limits.
    const proxyIps = fleet.proxies.map((p) => p.sourceIp);
    expect(log.every((r) => proxyIps.includes(r.ip))).toBe(true);
    expectPolite(log);
  });

  it('a 503 with Retry-After pauses the host for every worker, and the job succeeds after it', async () => {
    site.clearRequestLog();
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => scrape(`${site.url}/page/${100 + i}`)),
    );
    await until('the first pages to be served', () => site.requestLog().length >= 2, 20_000, 5);
    site.setOutage({ status: 503, retryAfterSeconds: 2, count: 1 });
    const jobs = await Promise.all(ids.map((id) => finished(id)));
    expect(jobs.map((j) => j.status)).toEqual(jobs.map(() => 'succeeded'));
    expect(jobs.reduce((n, j) => n + j.attempts, 0)).toBe(11);
    const log = site.requestLog();
    const refused = log.find((r) => r.status === 503);
    expect(refused).toBeDefined();
    const after = log.filter((r) => r.start > refused!.start);
    expect(after.length).toBeGreaterThan(0);
    // Nothing started, from any worker or proxy, until the Retry-After had passed.
    for (const r of after) expect(r.start).toBeGreaterThanOrEqual(refused!.end! + 2_000 - 5);
    expectPolite(log);
  });

  it('a robots.txt answering 5xx delays the jobs without spending an attempt, then they succeed', async () => {
    down.setRobotsStatus(503);
    const ids = await Promise.all(Array.from({ length: 3 }, (_, i) => scrape(`${down.url}/page/${i}`)));
    await until('robots.txt to be asked', () => down.requestLog().length >= 1, 20_000, 20);
    await new Promise((r) => setTimeout(r, 600));
    for (const id of ids) {
      expect((await api.get<JobRecord>(`/v1/jobs/${id}`)).body).toMatchObject({
        status: 'queued',
        attempts: 0,
      });
    }
    expect(down.requestLog().filter((r) => r.path !== '/robots.txt')).toEqual([]);
    down.setRobotsStatus(null);
    const jobs = await Promise.all(ids.map((id) => finished(id)));
    expect(jobs.map((j) => [j.status, j.attempts])).toEqual(ids.map(() => ['succeeded', 1]));
    const paths = down.requestLog().map((r) => r.path);
    expect(paths.filter((p) => p === '/robots.txt').length).toBeGreaterThanOrEqual(2);
    expect(paths.filter((p) => p.startsWith('/page/'))).toHaveLength(3);
  });

  it('a robots.txt Crawl-delay raises the interval between starts for the whole fleet', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, (_, i) => scrape(`${slowSite.url}/page/${i}`)));
    const jobs = await Promise.all(ids.map((id) => finished(id)));
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    const log = slowSite.requestLog();
    expect(log.map((r) => r.path)[0]).toBe('/robots.txt');
    expectPolite(log.slice(1), 1_000);
    // The first page waited a whole Crawl-delay after robots.txt ended.
    expect(log[1]!.start - log[0]!.end!).toBeGreaterThanOrEqual(1_000);
  });

  it('an admin lets one tenant ignore robots.txt for its own site; other tenants still obey it', async () => {
    const created = await t.admin.post<{ id: string; robots_exempt_hosts: string[] }>('/v1/admin/tenants', {
      name: 'owner of 127.0.0.60',
      robots_exempt_hosts: ['127.0.0.60'],
    });
    expect(created.body.robots_exempt_hosts).toEqual(['127.0.0.60']);
    const shown = await t.admin.get<{ robots_exempt_hosts: string[] }>(
      `/v1/admin/tenants/${created.body.id}`,
    );
    expect(shown.body.robots_exempt_hosts).toEqual(['127.0.0.60']);
    const key = await t.admin.post<{ key: string }>(`/v1/admin/tenants/${created.body.id}/keys`, {});
    const owner = new (api.constructor as typeof Api)(t.url, key.body.key);
    site.clearRequestLog();
    const own = await finished(await scrape(`${site.url}/private/mine`, owner), owner);
    expect(own).toMatchObject({ status: 'succeeded', result: { status: 404 } });
    const other = await finished(await scrape(`${site.url}/private/theirs`));
    expect(other).toMatchObject({ status: 'failed', error: { code: 'robots_disallowed' } });
    expect(site.requestLog().map((r) => r.path)).toEqual(['/private/mine']);
    // Never the default.
    const plain = await t.admin.get<{ robots_exempt_hosts: string[] }>(
      `/v1/admin/tenants/${(await t.tenant()).tenantId}`,
    );
    expect(plain.body.robots_exempt_hosts).toEqual([]);
  });
});
