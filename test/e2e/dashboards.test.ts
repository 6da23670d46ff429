import type { JobRecord } from '@switchyard/contracts';
import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import {
  alertRules,
  dashboard,
  families,
  metricNamesIn,
  missingMetrics,
  operationsQueries,
  promqlErrors,
  scaledObjects,
  selectorsIn,
  unmatchedLabels,
  usedMetrics,
} from './support/metric-names.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';

/**
 * The Grafana dashboard, the alert rules and the KEDA triggers name metrics and labels by string;
 * a rename in the code would leave them silently empty. Here a real stack (API + worker, real
 * Redis, the mock model and site over HTTP, scrapes through a real forward proxy) runs what makes
 * every series they read appear: a completion, a scrape, a completion that fails past the retry
 * budget, a scrape no proxy can serve (pool exhausted), and a webhook given up. Then every metric
 * those files name must be a family on the live /metrics of the API or the worker, and every
 * label they match or group by must be on its series.
 */
let t: TestStack;
let site: MockSite;
let fleet: ProxyFleet;
let receiver: WebhookReceiver;
let api: Api;
let tenantId: string;
let apiText: string;
let workerText: string;

async function scrapeMetrics(url: string): Promise<string> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

async function waitFor(body: unknown): Promise<JobRecord> {
  const res = await api.post<JobRecord>('/v1/jobs', body, { prefer: 'wait=20' });
  if (res.status !== 200) throw new Error(`job answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const scrapeJob = (url: string, extra: Record<string, unknown> = {}) => ({
  type: 'scrape',
  lane: 'interactive',
  request: { url },
  ...extra,
});

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 1, firstHostOctet: 201 });
  receiver = await WebhookReceiver.start();
  site = await startMockSite();
  const [proxy] = fleet.proxies;
  t = await startTestStack({
    config: {
      // A budget of one retry per window: the failing completion's first retry is allowed, its
      // second refused, so both answers of the budget have a series.
      jobs: { maxAttempts: 3, retryBudget: { ratio: 0, floor: 1 } },
      // Scrapes leave through the pool's one proxy, priced, so scrapes cost something.
      scrape: { egress: 'pool' },
      proxies: [{ id: 'p1', url: proxy?.url ?? '', tags: ['dc'], maxConcurrency: 4, pricePerGbUsd: 100 }],
      webhooks: { maxAttempts: 1, backoffMs: 50, timeoutMs: 3_000 },
    },
  });
  // A tenant with a daily budget (so the budget gauges have a series) and a webhook secret.
  const created = await t.admin.post<{ id: string }>('/v1/admin/tenants', {
    name: 'dash',
    daily_budget_usd: 5,
  });
  tenantId = created.body.id;
  expect((await t.admin.post(`/v1/admin/tenants/${tenantId}/webhook-secret`, {})).status).toBe(201);
  const key = await t.admin.post<{ key: string }>(`/v1/admin/tenants/${tenantId}/keys`, {
    scopes: ['jobs:write', 'jobs:read'],
  });
  api = new Api(t.url, key.body.key);
  // First, while no other job has spent the budget's one retry.
  t.mock.setFaults({ error5xx: 1 });
  const failed = await waitFor(completion('fails'));
  expect(failed.status).toBe('failed');
  expect(failed.error?.code).toBe('retry_budget_exhausted');
  t.mock.setFaults({});
  expect((await waitFor(completion('dashboards'))).status).toBe('succeeded');
  expect((await waitFor(scrapeJob(`${site.url}/fixtures/article.html`))).status).toBe('succeeded');
  // No proxy has this tag: the lease is answered exhausted and the job waits (delayed, not failed).
  const stuck = scrapeJob(`${site.url}/fixtures/docs.html`, { proxy: { tags: ['nowhere'] } });
  expect((await api.post('/v1/jobs', stuck)).status).toBe(202);
  // A receiver that answers 503, with one delivery attempt: the event is given up.
  const hook = receiver.on('/down', () => ({ status: 503 }));
  expect((await waitFor(completion('hooked', { webhook: { url: hook } }))).status).toBe('succeeded');
  const metricsUrl = /"metricsUrl":"([^"]+)"/.exec(t.logs.join(''))?.[1];
  if (!metricsUrl) throw new Error('the worker logged no metricsUrl');
  workerText = await until('an exhausted lease and a webhook given up on the worker', async () => {
    const text = await scrapeMetrics(metricsUrl);
    const counted = (name: string) => new RegExp(`^${name}\\{[^}]*\\} [1-9]`, 'm').test(text);
    const seen = ['switchyard_pool_exhausted_total', 'switchyard_webhooks_given_up_total'].every(counted);
    return seen ? text : undefined;
  });
  apiText = await scrapeMetrics(`${t.url}/metrics`);
});
afterAll(async () => {
  await t?.close();
  await site?.close();
  await receiver?.close();
  await fleet?.stop();
});

describe('dashboards, alerts and KEDA name live metrics', () => {
  it('every metric a panel, an alert or a KEDA trigger names is exposed by the API or a worker', () => {
    const used = usedMetrics(operationsQueries());
    expect(used.size).toBeGreaterThan(20);
    const live = new Map([...families(workerText), ...families(apiText)]);
    expect(missingMetrics(used, live), 'metrics named in infra/ but not exposed').toEqual([]);
  });

  it('every label a query matches or groups by is on the live series (a renamed label breaks a panel too)', () => {
    expect(
      unmatchedLabels(operationsQueries(), `${apiText}\n${workerText}`),
      'labels named in infra/ but not exposed',
    ).toEqual([]);
  });

  it('the labelled series the panels group by appear once jobs ran', () => {
    // Attempts and latency by model: the configured name for completions, `(scrape)` for scrapes.
    expect(workerText).toMatch(/^switchyard_attempts_total\{[^}]*model="mock"[^}]*outcome="ok"/m);
    expect(workerText).toMatch(/^switchyard_attempts_total\{[^}]*model="\(scrape\)"[^}]*outcome="ok"/m);
    expect(workerText).toMatch(/^switchyard_attempts_total\{[^}]*model="mock"[^}]*outcome="upstream_fault"/m);
    expect(workerText).toMatch(/^switchyard_attempt_duration_seconds_bucket\{[^}]*model="mock"/m);
    // The failing completion asked the retry budget twice: allowed, then refused (what alerts).
    expect(workerText).toMatch(
      /^switchyard_retry_budget_decisions_total\{lane="interactive",result="allowed"[^}]*\} 1$/m,
    );
    expect(workerText).toMatch(
      /^switchyard_retry_budget_decisions_total\{lane="interactive",result="refused"[^}]*\} 1$/m,
    );
    // Cost by tenant and model, from the ledger writes.
    const cost = new RegExp(
      `^switchyard_cost_usd_total\\{tenant="${tenantId}",model="mock"[^}]*\\} (\\S+)$`,
      'm',
    );
    expect(Number(cost.exec(workerText)?.[1])).toBeGreaterThan(0);
    const scrapeCost = new RegExp(
      `^switchyard_cost_usd_total\\{tenant="${tenantId}",model="\\(scrape\\)"[^}]*\\} (\\S+)$`,
      'm',
    );
    expect(Number(scrapeCost.exec(workerText)?.[1])).toBeGreaterThan(0);
    // The tenant's budget and spend today, read by the API at scrape time.
    expect(apiText).toMatch(
      new RegExp(`^switchyard_tenant_daily_budget_usd\\{tenant="${tenantId}"[^}]*\\} 5$`, 'm'),
    );
    const spend = new RegExp(
      `^switchyard_tenant_spend_today_usd\\{tenant="${tenantId}"[^}]*\\} (\\S+)$`,
      'm',
    );
    expect(Number(spend.exec(apiText)?.[1])).toBeGreaterThan(0);
    // Redis reachable, on both apps.
    expect(apiText).toMatch(/^switchyard_redis_up\{app="api"\} 1$/m);
    expect(workerText).toMatch(/^switchyard_redis_up\{app="worker"\} 1$/m);
  });
});

describe('the queries of infra/', () => {
  it('every panel, alert and KEDA query is valid PromQL', () => {
    const bad = operationsQueries()
      .filter((q) => promqlErrors(q.expr).length > 0 || q.expr.trim() === '')
      .map((q) => `${q.where}: ${q.expr}`);
    expect(bad).toEqual([]);
  });

  it('the syntax check finds an unbalanced query', () => {
    expect(promqlErrors('sum by (lane (rate(switchyard_attempts_total[5m]))')).not.toEqual([]);
    expect(promqlErrors('rate(switchyard_attempts_total[5m)')).not.toEqual([]);
    expect(promqlErrors('sum by (lane) (rate(switchyard_attempts_total[5m]))')).toEqual([]);
  });
});

describe('the metric-name check itself', () => {
  const text = [
    '# TYPE switchyard_attempts_total counter',
    '# TYPE switchyard_attempt_duration_seconds histogram',
    '# TYPE switchyard_lane_ready_jobs gauge',
  ].join('\n');

  it('names a renamed metric, and where it is used', () => {
    const used = usedMetrics([
      { where: 'panel "Attempts"', expr: 'sum by (model) (rate(switchyard_attempts_total[5m]))' },
      { where: 'alert Old', expr: 'max(switchyard_queue_depth{lane="batch"}) > 5' },
      {
        where: 'panel "p99"',
        expr: 'histogram_quantile(0.99, sum by (le) (rate(switchyard_attempt_duration_seconds_bucket[5m])))',
      },
    ]);
    expect(missingMetrics(used, families(text))).toEqual(['switchyard_queue_depth (used by alert Old)']);
  });

  it('names a renamed label or label value, and where it is used', () => {
    const live = [
      'switchyard_attempts_total{lane="batch",kind="completion",model="m",outcome="ok",app="worker"} 3',
      'switchyard_attempt_duration_seconds_bucket{lane="batch",model="m",le="0.5",app="worker"} 1',
    ].join('\n');
    const queries = [
      { where: 'ok', expr: 'sum by (model, instance) (rate(switchyard_attempts_total{lane="batch"}[5m]))' },
      {
        where: 'ok',
        expr: 'histogram_quantile(0.9, sum by (le, model) (rate(switchyard_attempt_duration_seconds_bucket[5m])))',
      },
      { where: 'typo', expr: 'sum(rate(switchyard_attempts_total{lane="bacth"}[5m]))' },
      { where: 'renamed', expr: 'sum by (model_name) (rate(switchyard_attempts_total[5m]))' },
      { where: 'unseen', expr: 'sum by (lane) (rate(switchyard_pool_exhausted_total[5m]))' },
    ];
    expect(unmatchedLabels(queries, live)).toEqual([
      'switchyard_attempts_total: no series has lane="bacth" (used by typo)',
      'switchyard_attempts_total: no series has the label model_name it is grouped by (used by renamed)',
      'switchyard_pool_exhausted_total: no series to check its labels against (used by unseen)',
    ]);
    expect(selectorsIn('max by (lane) (switchyard_lane_ready_jobs{lane="batch"})')).toEqual([
      {
        metric: 'switchyard_lane_ready_jobs',
        matchers: [{ label: 'lane', op: '=', value: 'batch' }],
        groupedBy: ['lane'],
      },
    ]);
  });

  it('takes _bucket, _sum and _count only from histograms', () => {
    const used = usedMetrics([
      {
        where: 'a',
        expr: 'switchyard_attempt_duration_seconds_sum / switchyard_attempt_duration_seconds_count',
      },
      { where: 'b', expr: 'switchyard_lane_ready_jobs_count + switchyard_attempts_total_bucket' },
    ]);
    expect(missingMetrics(used, families(text))).toEqual([
      'switchyard_lane_ready_jobs_count (used by b)',
      'switchyard_attempts_total_bucket (used by b)',
    ]);
  });

  it('reads every metric name, not functions, labels or label values', () => {
    expect(
      metricNamesIn(
        'max by (lane) (switchyard_lane_delayed_jobs{lane="batch",reason="fair_share"}) + max(process_resident_memory_bytes)',
      ),
    ).toEqual(['switchyard_lane_delayed_jobs', 'process_resident_memory_bytes']);
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket{job="api"}[5m]))) > on() up',
      ),
    ).toEqual(['http_seconds_bucket', 'up']);
  });
});

describe('infra/prometheus/alerts.yml and infra/grafana/switchyard.json', () => {
  it('every alert rule has a name, an expression, a for, a severity and a summary', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Switchyard[A-Za-z0-9]+$/);
      expect(r.expr, r.alert).toBeTruthy();
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('the alerts cover what the issue asks', () => {
    const exprs = alertRules().map((r) => r.expr ?? '');
    const covers = (name: string) => exprs.some((e) => metricNamesIn(e).includes(name));
    for (const name of [
      'switchyard_lane_oldest_ready_seconds',
      'switchyard_pool_exhausted_total',
      'switchyard_retry_budget_decisions_total',
      'switchyard_webhooks_given_up_total',
      'switchyard_redis_up',
      'switchyard_tenant_spend_today_usd',
      'switchyard_tenant_daily_budget_usd',
    ])
      expect(covers(name), name).toBe(true);
    // One oldest-ready SLO per lane.
    for (const lane of ['interactive', 'batch'])
      expect(
        exprs.some((e) => e.includes(`switchyard_lane_oldest_ready_seconds{lane="${lane}"}`)),
        lane,
      ).toBe(true);
  });

  it('the dashboard imports: one Prometheus data source variable, every query panel uses it', () => {
    const d = dashboard();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('switchyard');
    expect(d.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }),
    );
    const queryPanels = d.panels.filter((p) => p.type !== 'row');
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of queryPanels) {
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const target of p.targets ?? []) expect(target.expr, p.title).toMatch(/\S/);
    }
    const titles = queryPanels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const want of [
      'ready',
      'oldest ready',
      'throughput',
      'latency',
      'retry share',
      'proxies by state',
      'exhausted',
      'cost per tenant',
      'cost per model',
    ])
      expect(titles, want).toContain(want);
  });

  it('KEDA triggers are queries of one value each (max over API replicas)', () => {
    for (const o of scaledObjects())
      for (const tr of o.spec.triggers) expect(tr.metadata.query, o.metadata.name).toMatch(/^max\(/);
  });
});
