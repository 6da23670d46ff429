import { maxConcurrency, startGaps, startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

interface Batch {
  id: string;
  status: 'in_progress' | 'completed';
  counts: { total: number; succeeded: number; failed: number };
}

const HOSTS = 20;
const LINES = 2_000;
const INTERVAL_MS = 50;
const MAX_CONCURRENCY = 2;
/**
 * How much shorter than the interval a gap at the site may look: a request reaches the site a
 * little after its start report (the Redis reply, undici's dispatch), however loaded the machine.
 */
const DELIVERY_JITTER_MS = 20;

const sites: MockSite[] = [];
let t: TestStack;
let api: Api;

beforeAll(async () => {
  for (let i = 0; i < HOSTS; i++) sites.push(await startMockSite({ host: `127.0.0.${80 + i}` }));
  t = await startTestStack({
    config: {
      scrape: { perHost: { maxConcurrency: MAX_CONCURRENCY, minIntervalMs: INTERVAL_MS } },
      worker: { concurrency: { interactive: 4, batch: 32 } },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await Promise.all(sites.map((s) => s.close()));
});

describe('a RAG-sized batch under per-host politeness', () => {
  it('2,000 scrape lines over 20 hosts finish with the limits held and no job failed for politeness', async () => {
    const lines = Array.from({ length: LINES }, (_, i) => ({
      custom_id: `doc-${i}`,
      type: 'scrape',
      request: { url: `${sites[i % HOSTS]!.url}/page/${i}` },
    }));
    const started = Date.now();
    const res = await api.post<Batch>('/v1/batches', lines);
    expect(res.status).toBe(202);
    const done = await until(
      'the batch to finish',
      async () => {
        const r = await api.get<Batch>(`/v1/batches/${res.body.id}`);
        return r.body.status === 'completed' ? r.body : undefined;
      },
      55_000,
      200,
    );
    const tookMs = Date.now() - started;
    expect(done.counts).toMatchObject({ total: LINES, succeeded: LINES, failed: 0 });
    for (const site of sites) {
      const log = site.requestLog();
      expect(log.filter((r) => r.path === '/robots.txt')).toHaveLength(1);
      expect(log).toHaveLength(1 + LINES / HOSTS);
      expect(maxConcurrency(log)).toBeLessThanOrEqual(MAX_CONCURRENCY);
      expect(Math.min(...startGaps(log))).toBeGreaterThanOrEqual(INTERVAL_MS - DELIVERY_JITTER_MS);
      expect(log.at(-1)!.start - log[0]!.start).toBeGreaterThanOrEqual((log.length - 1) * INTERVAL_MS);
    }
    // Each host needs ~100 intervals; the hosts run side by side.
    expect(tookMs).toBeLessThan(50_000);
  });
});
