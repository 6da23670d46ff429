import type { JobRecord } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const PROXIES = 8;
const PER_IP_PER_SECOND = 60;
const JOBS = 1_000;

let fleet: ProxyFleet;
let site: MockSite;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  fleet = await startProxyFleet({ count: PROXIES, firstHostOctet: 31 });
  site = await startMockSite({ host: '127.0.0.2' });
  t = await startTestStack({
    config: {
      // This suite measures the pool against a per-IP limit with 1,000 scrapes of one site: robots.txt
      // and per-host politeness (2 at a time, 500 ms apart) are off so the site sees only the pages.
      scrape: { egress: 'pool', robots: { enabled: false }, perHost: { enabled: false } },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url, maxConcurrency: 4, pricePerGbUsd: 2 })),
      worker: { concurrency: { interactive: 4, batch: 32 } },
      pool: { interactiveReserve: 0 },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await site?.close();
  await fleet?.stop();
});

describe('scrapes through the proxy pool', () => {
  it('1,000 jobs against a per-IP rate limit are spread over 8 proxies; no attempt goes through a cooling pair', async () => {
    site.setRateLimit({ perIpPerSecond: PER_IP_PER_SECOND, retryAfterSeconds: 1 });
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          api.post<JobRecord>('/v1/jobs', { type: 'scrape', request: { url: `${site.url}/page/${i + j}` } }),
        ),
      );
      ids.push(...batch.map((r) => r.body.id));
    }
    const jobs = await Promise.all(
      ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body),
    );

    // The pool avoids every rate limit it can know of: after a 429 through a proxy, nothing is
    // sent through that (proxy, host) pair until its Retry-After (1 s) has passed. (20 ms of slack
    // for a lease taken while the 429 was on its way back.)
    const attempts = jobs
      .flatMap((j) => j.attempt_log ?? [])
      .map((a) => ({
        proxy: a.proxy_id ?? '',
        start: Date.parse(a.started_at),
        end: Date.parse(a.started_at) + a.latency_ms,
        limited: a.outcome === 'rate_limited',
      }));
    const throughCoolingPair = attempts.filter((a) =>
      attempts.some((l) => l.limited && l.proxy === a.proxy && a.start > l.end + 20 && a.start < l.end + 950),
    );
    expect(throughCoolingPair).toEqual([]);
    // What no pool can know in advance is each proxy's first 429 of a second (the site's quota is
    // not announced): a job can meet three of those in a row and fail, rarely. Anything else, or
    // more than a handful, would mean rotation or cooling broke.
    const failed = jobs.filter((j) => j.status !== 'succeeded');
    expect(failed.filter((j) => j.error?.code !== 'upstream_rate_limited')).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(JOBS / 100);

    // The site saw every proxy's own source address, each carrying a fair share.
    const byIp = site.stats().byIp;
    const okByIp = fleet.proxies.map((p) => byIp[p.sourceIp]?.ok ?? 0);
    expect(okByIp.reduce((a, b) => a + b, 0)).toBe(JOBS - failed.length);
    for (const ok of okByIp) expect(ok).toBeGreaterThan(JOBS / PROXIES / 3);
    // Nothing reached the site from anywhere but the proxies.
    expect(Object.keys(byIp).sort()).toEqual(fleet.proxies.map((p) => p.sourceIp).sort());

    // Rate limits cooled (proxy, host) pairs; retries went elsewhere at once, so attempts stay low.
    const attemptCount = jobs.reduce((a, j) => a + j.attempts, 0);
    const rateLimited = Object.values(byIp).reduce((a, s) => a + s.rateLimited, 0);
    expect(attemptCount).toBe(JOBS - failed.length + rateLimited);
    // Proxy bytes are priced: 2 USD/GB = 2 nano-USD per byte.
    expect(jobs.filter((j) => j.status === 'succeeded').every((j) => j.cost.nano_usd > 0)).toBe(true);
  });
});
