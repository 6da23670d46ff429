import type { JobRecord } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import type { Lease } from '@switchyard/proxy-pool';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

let fleet: ProxyFleet;
let siteA: MockSite;
let siteB: MockSite;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 4, firstHostOctet: 41 });
  siteA = await startMockSite({ host: '127.0.0.3' });
  siteB = await startMockSite({ host: '127.0.0.4' });
  t = await startTestStack({
    config: {
      // The pool under faults, with exact request counts at the site and dozens of scrapes of one
      // host: robots.txt and per-host politeness are off here (politeness.test.ts covers them).
      scrape: { egress: 'pool', robots: { enabled: false }, perHost: { enabled: false } },
      jobs: { maxAttempts: 5 },
      pool: { interactiveReserve: 0, probeIntervalMs: 100, quarantineBaseMs: 300 },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await siteA?.close();
  await siteB?.close();
  await fleet?.stop();
});

const pool = () => {
  const p = t.stack.worker?.pool;
  if (!p) throw new Error('no pool');
  return p;
};

async function useProxies(ids: string[]): Promise<void> {
  for (const p of await pool().list()) await pool().remove(p.id);
  for (const p of fleet.proxies.filter((x) => ids.includes(x.id))) {
    await pool().upsert({ id: p.id, url: p.url, tags: [], maxConcurrency: 4, pricePerGbUsd: 0 });
  }
}

const scrape = (url: string, extra: Record<string, unknown> = {}) =>
  api.post<JobRecord>('/v1/jobs', { type: 'scrape', lane: 'interactive', request: { url }, ...extra });
const finished = async (id: string) =>
  (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' })).body;

beforeEach(async () => {
  for (const p of fleet.proxies) await p.setFault('none');
  for (const p of fleet.proxies) await p.revive().catch(() => undefined);
  siteA.resetStats();
  siteB.resetStats();
});

describe('proxy pool under faults', () => {
  it('a 429 cools down only that (proxy, host) pair; the proxy keeps serving other hosts', async () => {
    const [only] = fleet.proxies;
    await useProxies([only!.id]);
    // The worker's first scrape starts its extraction thread (seconds on a busy machine): warm it,
    // so page/1 and page/2 below reach site A within the limit's second.
    await finished((await scrape(`${siteB.url}/page/0`)).body.id);
    siteA.setRateLimit({ perIpPerSecond: 1, retryAfterSeconds: 2 });
    try {
      expect((await finished((await scrape(`${siteA.url}/page/1`)).body.id)).status).toBe('succeeded');
      const limited = await scrape(`${siteA.url}/page/2`); // 429: the pair cools for 2 s
      await until('the pair to cool down', async () => (await pool().list())[0]?.cooling.length === 1);
      const health = (await pool().list())[0];
      expect(health?.cooling.map((c) => c.host)).toEqual([`127.0.0.3:${siteA.port}`]);
      // Site B through the same proxy is served at once.
      const started = Date.now();
      const other = await finished((await scrape(`${siteB.url}/page/1`)).body.id);
      expect(other.status).toBe('succeeded');
      expect(Date.now() - started).toBeLessThan(1_500);
      // The limited job waits for the cooldown (delayed, not failed) and then succeeds.
      const retried = await finished(limited.body.id);
      expect(retried.status).toBe('succeeded');
      expect(retried.attempts).toBe(2);
    } finally {
      siteA.setRateLimit(null);
    }
  });

  it('a dead proxy: its jobs go through the others, it is quarantined, and re-admitted when it comes back', async () => {
    await useProxies(fleet.proxies.map((p) => p.id));
    const victim = fleet.proxies[0]!;
    await victim.setFault('dead');
    const jobs = await Promise.all(Array.from({ length: 60 }, (_, i) => scrape(`${siteA.url}/page/${i}`)));
    const done = await Promise.all(jobs.map((j) => finished(j.body.id)));
    expect(done.filter((j) => j.status !== 'succeeded')).toEqual([]);
    expect(siteA.stats().byIp[victim.sourceIp]).toBeUndefined();
    await until(
      'the dead proxy to be quarantined',
      async () => (await pool().list()).find((p) => p.id === victim.id)?.state === 'quarantined',
    );
    await victim.revive();
    await until(
      'the revived proxy to be re-admitted by the prober',
      async () => (await pool().list()).find((p) => p.id === victim.id)?.state === 'available',
    );
    siteA.resetStats();
    const after = await Promise.all(Array.from({ length: 40 }, (_, i) => scrape(`${siteA.url}/page/${i}`)));
    await Promise.all(after.map((j) => finished(j.body.id)));
    expect(siteA.stats().byIp[victim.sourceIp]?.ok ?? 0).toBeGreaterThan(0);
  });

  it('sticky sessions keep their proxy, and move when it fails', async () => {
    await useProxies(fleet.proxies.map((p) => p.id));
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const job = await finished(
          (await scrape(`${siteA.url}/page/${i}`, { proxy: { session: 'cart-7' } })).body.id,
        );
        expect(job.status).toBe('succeeded');
      }
    };
    await run(10);
    const ips = Object.keys(siteA.stats().byIp);
    expect(ips).toHaveLength(1);
    const holder = fleet.proxies.find((p) => p.sourceIp === ips[0])!;
    await holder.setFault('dead');
    siteA.resetStats();
    await run(10);
    const moved = Object.keys(siteA.stats().byIp);
    expect(moved).toHaveLength(1);
    expect(moved[0]).not.toBe(holder.sourceIp);
  });

  it('an empty pool delays jobs (exhaustion metric rising) and they finish when capacity returns', async () => {
    await useProxies([]);
    const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => scrape(`${siteA.url}/page/${i}`)));
    const metric = async () => {
      const text = await t.stack.worker!.registry.metrics();
      return [...text.matchAll(/^switchyard_pool_exhausted_total\{[^}]*\} (\d+)/gm)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    };
    const before = await metric();
    await until('exhaustion to be counted', async () => (await metric()) > before + 5);
    for (const j of jobs)
      expect((await api.get<JobRecord>(`/v1/jobs/${j.body.id}`)).body).toMatchObject({
        status: 'queued',
        attempts: 0,
      });
    await useProxies([fleet.proxies[1]!.id]);
    const done = await Promise.all(jobs.map((j) => finished(j.body.id)));
    expect(done.map((j) => [j.status, j.attempts])).toEqual(jobs.map(() => ['succeeded', 1]));
  });

  it('a pool cooling everywhere for a host delays its jobs (exhaustion by cooling) until the cooldown ends', async () => {
    const ids = fleet.proxies.slice(0, 2).map((p) => p.id);
    await useProxies(ids);
    const hostA = `127.0.0.3:${siteA.port}`;
    // Both proxies answer 429 for site A (as a rate-limiting site would make them), with 1.5 s
    // Retry-After: every (proxy, site A) pair cools.
    // (the earlier tests' jobs left both pairs paced for site A: each is leasable at its next start)
    const held: Lease[] = [];
    await until('both proxies to be leased for site A', async () => {
      const l = await pool().lease({ lane: 'interactive', host: hostA });
      if (!l.exhausted) held.push(l);
      return held.length === ids.length;
    });
    expect(new Set(held.map((l) => l.proxyId))).toEqual(new Set(ids));
    for (const l of held) await pool().release(l, { outcome: 'rate_limited', retryAfterMs: 1_500 });
    const cooledAt = Date.now();
    const exhaustedByCooling = async () => {
      const text = await t.stack.worker!.registry.metrics();
      return [
        ...text.matchAll(/^switchyard_pool_exhausted_total\{[^}]*reason="cooling"[^}]*\} (\d+)/gm),
      ].reduce((a, m) => a + Number(m[1]), 0);
    };
    const before = await exhaustedByCooling();
    const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => scrape(`${siteA.url}/page/${i}`)));
    await until('cooling exhaustion to be counted', async () => (await exhaustedByCooling()) >= before + 5);
    // Delayed, not failed, no attempt burned, nothing sent to site A; another host is served
    // through the same proxies meanwhile.
    for (const j of jobs)
      expect((await api.get<JobRecord>(`/v1/jobs/${j.body.id}`)).body).toMatchObject({
        status: 'queued',
        attempts: 0,
      });
    expect((await finished((await scrape(`${siteB.url}/page/1`)).body.id)).status).toBe('succeeded');
    expect(siteA.stats().requests).toBe(0);
    const done = await Promise.all(jobs.map((j) => finished(j.body.id)));
    expect(done.map((j) => [j.status, j.attempts])).toEqual(jobs.map(() => ['succeeded', 1]));
    expect(Date.now() - cooledAt).toBeGreaterThanOrEqual(1_400);
    expect(siteA.stats().requests).toBe(5);
  });
});
