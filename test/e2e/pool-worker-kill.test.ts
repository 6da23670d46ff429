import type { JobRecord } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { ProxyPool } from '@switchyard/proxy-pool';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

let fleet: ProxyFleet;
let site: MockSite;
let t: TestStack;
let api: Api;
let redis: Redis;
let pool: ProxyPool;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 2, firstHostOctet: 51 });
  site = await startMockSite({ host: '127.0.0.5' });
  t = await startTestStack({
    worker: false,
    config: {
      // Four slow scrapes of one host in flight at once, each holding a proxy lease: per-host
      // politeness (2 at a time) and robots.txt fetches are off in this suite of the pool.
      scrape: {
        egress: 'pool',
        timeoutMs: 4_000,
        robots: { enabled: false },
        perHost: { enabled: false },
      },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url, maxConcurrency: 2 })),
      pool: { interactiveReserve: 0, leaseMarginMs: 500 },
      worker: { lockDurationMs: 1_500, concurrency: { interactive: 2, batch: 8 } },
    },
  });
  api = (await t.tenant()).api;
  redis = new Redis(t.redis.url);
  pool = new ProxyPool({ redis, prefix: t.config.redis.prefix });
});
afterAll(async () => {
  for (const w of workers) w.terminate('SIGKILL');
  redis?.disconnect();
  await t?.close();
  await site?.close();
  await fleet?.stop();
});

describe('a worker killed while holding leases', () => {
  it('gives its proxy capacity back after the lease TTL, and its jobs finish on another worker', async () => {
    const cfg = writeConfigFile(t.config);
    const a = await startWorkerProcess(cfg);
    workers.push(a);
    const jobs = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        api.post<JobRecord>('/v1/jobs', {
          type: 'scrape',
          request: { url: `${site.url}/slow?ms=2500&n=${i}` },
        }),
      ),
    );
    const held = async () => (await pool.counts()).inFlight;
    // All four attempts have started (counted, each holding a lease) and none has finished.
    await until('four attempts in flight', async () => {
      const seen = await Promise.all(
        jobs.map(async (j) => (await api.get<JobRecord>(`/v1/jobs/${j.body.id}`)).body),
      );
      return seen.every((j) => j.status === 'running' && j.attempts === 1);
    });
    expect(await held()).toBe(4);
    a.terminate('SIGKILL');
    await a.exited;
    // Capacity is still held right after the kill...
    expect(await held()).toBe(4);
    // ...and returns once the leases expire (timeout 4 s + margin 0.5 s), reclaimed by the pool.
    await until(
      'expired leases to be reclaimed',
      async () => (await pool.reclaimExpired()) > 0 || (await held()) === 0,
      10_000,
      200,
    );
    expect(await held()).toBe(0);

    const b = await startWorkerProcess(cfg);
    workers.push(b);
    const done = await Promise.all(
      jobs.map(async (j) => (await api.get<JobRecord>(`/v1/jobs/${j.body.id}`, { prefer: 'wait=30' })).body),
    );
    expect(done.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(done.every((j) => j.attempts === 2)).toBe(true);
    b.terminate('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
