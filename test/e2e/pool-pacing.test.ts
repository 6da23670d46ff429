import type { JobRecord } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

// Issue 18's scenario as a new user would run it: 4 proxies (one resetting every connection), a
// site that admits 5 requests per second per source IP, a few hundred scrapes, two workers.
const PER_IP_PER_SECOND = 5;
const JOBS = 300;

let fleet: ProxyFleet;
let site: MockSite;
let t: TestStack;
let api: Api;
let second: WorkerProcess | undefined;

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 4, firstHostOctet: 61 });
  await fleet.proxies[3]!.setFault({ resetProbability: 1 });
  site = await startMockSite({
    host: '127.0.0.6',
    rateLimit: { perIpPerSecond: PER_IP_PER_SECOND, retryAfterSeconds: 1 },
  });
  t = await startTestStack({
    config: {
      // The pool's pacing against a per-IP limit, on its own: per-host politeness (2 in flight,
      // 500 ms apart by default) would keep the site under its limit by itself.
      scrape: { egress: 'pool', robots: { enabled: false }, perHost: { enabled: false } },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url })),
    },
  });
  second = await startWorkerProcess(writeConfigFile(t.config));
  api = (await t.tenant()).api;
}, 60_000);
afterAll(async () => {
  second?.terminate();
  await second?.exited;
  await t?.close();
  await site?.close();
  await fleet?.stop();
});

describe('pacing per (proxy, host) pair', () => {
  it('a few hundred scrapes of a site with a per-IP limit succeed, and the site sees few 429s', async () => {
    const started = Date.now();
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
      ids.map(async (id) => {
        for (;;) {
          const job = (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body;
          if (job.status === 'succeeded' || job.status === 'failed') return job;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const stats = site.stats();
    const limited = Object.values(stats.byIp).reduce((a, c) => a + c.rateLimited, 0);
    const succeeded = jobs.filter((j) => j.status === 'succeeded').length;
    const failures: Record<string, number> = {};
    for (const j of jobs)
      if (j.status !== 'succeeded')
        failures[j.error?.code ?? j.status] = (failures[j.error?.code ?? j.status] ?? 0) + 1;
    // delays (pool exhausted for the host: no attempt spent) counted by the in-process worker
    const text = await t.stack.worker!.registry.metrics();
    const delays = [...text.matchAll(/^switchyard_pool_exhausted_total\{[^}]*\} (\d+)/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    console.log(
      `pacing e2e: ${succeeded}/${JOBS} succeeded (${JSON.stringify(failures)}), site saw ${stats.requests} requests, ` +
        `${limited} answered 429 (${((100 * limited) / stats.requests).toFixed(1)}%), ${(JOBS / seconds).toFixed(1)} jobs/s, ${delays} delays in one of the two workers`,
    );
    expect(succeeded).toBeGreaterThanOrEqual(Math.ceil(JOBS * 0.99));
    expect(limited).toBeLessThan(stats.requests * 0.1);
  }, 240_000);
});
