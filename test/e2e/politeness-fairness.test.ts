import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

interface Batch {
  id: string;
  status: 'in_progress' | 'completed';
  counts: { total: number; succeeded: number; failed: number; queued_or_running: number };
}

const INTERVAL_MS = 20;
let busy: MockSite;
let quiet: MockSite;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  busy = await startMockSite({ host: '127.0.0.70' });
  quiet = await startMockSite({ host: '127.0.0.71' });
  t = await startTestStack({
    config: {
      scrape: { perHost: { maxConcurrency: 2, minIntervalMs: INTERVAL_MS } },
      worker: { concurrency: { interactive: 4, batch: 32 } },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  await t?.close();
  await busy?.close();
  await quiet?.close();
});

const lines = (site: MockSite, n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `${tag}-${i}`,
    type: 'scrape',
    request: { url: `${site.url}/page/${i}` },
  }));

async function delayedForHost(): Promise<number> {
  const text = await t.stack.worker!.registry.metrics();
  return [...text.matchAll(/^switchyard_scrapes_delayed_for_host_total\{[^}]*\} (\d+)/gm)].reduce(
    (a, m) => a + Number(m[1]),
    0,
  );
}

describe('per-host politeness is fair between hosts', () => {
  it('1,000 scrapes of one host do not hold back 100 scrapes of another host submitted after them', async () => {
    const started = Date.now();
    const a = await api.post<Batch>('/v1/batches', lines(busy, 1_000, 'busy'));
    const b = await api.post<Batch>('/v1/batches', lines(quiet, 100, 'quiet'));
    expect([a.status, b.status]).toEqual([202, 202]);
    const quietDone = await until(
      'the quiet host’s batch to finish',
      async () => {
        const r = await api.get<Batch>(`/v1/batches/${b.body.id}`);
        return r.body.status === 'completed' ? r.body : undefined;
      },
      45_000,
      100,
    );
    const tookMs = Date.now() - started;
    const busyPages = busy.requestLog().filter((r) => r.path.startsWith('/page/')).length;
    expect(quietDone.counts).toMatchObject({ total: 100, succeeded: 100, failed: 0 });
    // The busy host is held to one start per interval, so it needs 1,000 intervals; the quiet
    // host's batch ended long before that, with most of the busy host's pages still to come.
    expect(busyPages).toBeLessThanOrEqual(tookMs / INTERVAL_MS + 1);
    expect(busyPages).toBeLessThan(1_000 * 0.6);
    // The busy host's waiting jobs were delayed (not failed), and said so in a metric and a log line.
    expect(await delayedForHost()).toBeGreaterThan(900);
    expect(t.logs.some((l) => l.includes('scrapes waiting for their host (politeness)'))).toBe(true);
    const busyBatch = await api.get<Batch>(`/v1/batches/${a.body.id}`);
    expect(busyBatch.body.counts.failed).toBe(0);
  });
});
