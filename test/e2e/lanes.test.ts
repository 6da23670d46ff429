import type { JobRecord, LaneSignals, LanesReport } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

/** Every upstream answer takes this long, so jobs stay ready and active while the test looks. */
const LATENCY_MS = 1_500;

let mock: MockLlm;
let broken: MockLlm;
let site: MockSite;
let fleet: ProxyFleet;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  mock = await startMockLlm({ latencyMs: LATENCY_MS });
  broken = await startMockLlm({ faults: { error5xx: 1 } });
  site = await startMockSite({ host: '127.0.0.70', robotsTxt: null });
  fleet = await startProxyFleet({ count: 1, firstHostOctet: 71 });
  t = await startTestStack({
    mock,
    config: {
      worker: { concurrency: { interactive: 2, batch: 2 }, heartbeatMs: 200 },
      // A retried job stays delayed long enough to be seen.
      jobs: { backoffMs: 20_000 },
      fairness: { bufferJobs: 2 },
      proxies: [{ id: fleet.proxies[0]!.id, url: fleet.proxies[0]!.url, maxConcurrency: 1 }],
      pool: { interactiveReserve: 0 },
      scrape: { perHost: { maxConcurrency: 1, minIntervalMs: 10_000 } },
      models: {
        pooled: { baseUrl: `${mock.url}/v1`, upstreamModel: 'mock-small', egress: 'pool', price: MOCK_PRICE },
        broken: { baseUrl: `${broken.url}/v1`, upstreamModel: 'mock-small', price: MOCK_PRICE },
      },
    },
  });
  ({ api } = await t.tenant());
});
afterAll(async () => {
  await t?.close();
  await mock?.close();
  await broken?.close();
  await site?.close();
  await fleet?.stop();
});

const lanes = async () => {
  const res = await t.admin.get<LanesReport>('/v1/admin/lanes');
  expect(res.status).toBe(200);
  return res.body;
};
/** Polls the lanes report until `pred` holds; the report that met it. */
async function lanesWhen(what: string, pred: (r: LanesReport) => boolean, timeoutMs = 20_000) {
  let last: LanesReport | undefined;
  try {
    return await until(
      what,
      async () => {
        last = await lanes();
        return pred(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    const seen = last?.lanes.map(({ finished_per_minute: _, ...l }) => l);
    throw new Error(`${(err as Error).message}; last report: ${JSON.stringify(seen)}`, { cause: err });
  }
}
const lane = (r: LanesReport, name: string) => r.lanes.find((l) => l.lane === name) as LaneSignals;
const submit = async (body: Record<string, unknown>) => {
  const res = await api.post<JobRecord>('/v1/jobs', body);
  expect(res.status).toBe(202);
  return res.body.id;
};
const waitDone = async (ids: string[]) => {
  for (const id of ids) {
    const r = await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' });
    expect(['succeeded', 'failed']).toContain(r.body.status);
  }
};

/** A gauge's value on the API's /metrics, by its labels as Prometheus prints them (before `app`). */
async function gauge(name: string, labels: string): Promise<number> {
  const text = await (await request(`${t.url}/metrics`)).body.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels},`) || l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ')[1]);
}

describe('GET /v1/admin/lanes: what an autoscaler and an operator act on', () => {
  it('is for the admin key only: a tenant key gets 403 forbidden', async () => {
    const res = await api.get<{ code: string }>('/v1/admin/lanes');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('shows ready and active jobs, the oldest ready age, and the live worker with its jobs in flight', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) => submit(completion(`l${i}`, { lane: 'interactive' }))),
    );
    const r = await lanesWhen(
      'two active jobs, reported in flight by the worker',
      (x) => lane(x, 'interactive').active === 2 && x.workers[0]?.in_flight === 2,
      5_000,
    );
    const interactive = lane(r, 'interactive');
    expect(interactive.ready).toBe(4);
    expect(interactive.oldest_ready_age_s).toBeGreaterThan(0);
    expect(interactive.oldest_ready_age_s).toBeLessThan(10);
    expect(interactive.workers).toBe(1);
    expect(interactive.slots).toBe(2);
    expect(r.workers).toHaveLength(1);
    expect(r.workers[0]).toMatchObject({
      lanes: ['interactive', 'batch'],
      concurrency: { interactive: 2, batch: 2 },
      pid: process.pid,
    });
    expect(Date.now() - Date.parse(r.workers[0]!.last_heartbeat_at)).toBeLessThan(2_000);
    expect(r.workers[0]!.metrics_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // The same figures as Prometheus gauges, for KEDA and the alerts.
    expect(await gauge('switchyard_lane_active_jobs', 'lane="interactive"')).toBe(2);
    expect(await gauge('switchyard_lane_workers', 'lane="interactive"')).toBe(1);
    expect(await gauge('switchyard_lane_worker_slots', 'lane="batch"')).toBe(2);
    expect(await gauge('switchyard_lane_oldest_ready_seconds', 'lane="interactive"')).toBeGreaterThan(0);

    await waitDone(ids);
    const after = await lanesWhen(
      'the interactive lane drained',
      (x) => lane(x, 'interactive').ready + lane(x, 'interactive').active === 0,
    );
    expect(lane(after, 'interactive').oldest_ready_age_s).toBeNull();
    // BullMQ counts finished jobs per full minute: a reading a minute on sees them all.
    const later = await t.stack.api!.lanes.report(Date.now() + 60_000);
    const perMinute = lane(later, 'interactive').finished_per_minute;
    expect(perMinute).toHaveLength(60);
    expect(perMinute[0]! + perMinute[1]!).toBe(6);
    expect(lane(later, 'interactive').finished_per_second.last_5m).toBeCloseTo(6 / 300, 6);
  }, 30_000);

  it('breaks delayed jobs down by why: retrying, held by the fair share, waiting for egress, waiting for a host', async () => {
    // Retrying: the upstream always answers 500, and the next attempt is 20 s away.
    const on = (model: string, content: string) => ({
      ...completion(content),
      request: { model, messages: [{ role: 'user', content }] },
    });
    await submit(on('broken', 'retry me'));
    // Egress: one proxy with one slot for three jobs.
    for (let i = 0; i < 3; i++) await submit(on('pooled', `p${i}`));
    // A host: one request per 10 s to this site.
    for (let i = 0; i < 3; i++)
      await submit({ type: 'scrape', lane: 'interactive', request: { url: `${site.url}/page/${i}` } });
    // Fair share: a tenant's batch backlog beyond what the mover keeps ready.
    for (let i = 0; i < 12; i++) await submit(completion(`b${i}`, { lane: 'batch' }));

    const r = await lanesWhen(
      'jobs delayed for each reason',
      (x) => {
        const d = lane(x, 'interactive').delayed;
        return d.retrying === 1 && d.egress >= 1 && d.host >= 1 && lane(x, 'batch').delayed.fair_share > 0;
      },
      10_000,
    );
    const d = lane(r, 'interactive').delayed;
    expect(d.total).toBe(d.retrying + d.egress + d.host);
    expect(d.fair_share).toBe(0);
    const batch = lane(r, 'batch');
    expect(batch.delayed.fair_share).toBeGreaterThanOrEqual(12 - 2 - 2 - batch.ready - batch.active);
    expect(batch.delayed.total).toBeGreaterThanOrEqual(batch.delayed.fair_share);
    expect(await gauge('switchyard_lane_delayed_jobs', 'lane="interactive",reason="retrying"')).toBe(1);
    expect(await gauge('switchyard_lane_delayed_jobs', 'lane="interactive",reason="host"')).toBe(d.host);
  }, 30_000);

  it('a worker that stops leaves the list', async () => {
    await t.stack.worker!.stop(1_000);
    // Read past the report cache (one reading serves the next second's callers).
    await new Promise((r) => setTimeout(r, 1_100));
    const r = await lanes();
    expect(r.workers).toHaveLength(0);
    expect(lane(r, 'batch').workers).toBe(0);
  });
});
