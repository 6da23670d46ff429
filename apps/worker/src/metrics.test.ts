import type { AttemptEntry, RecordResult } from '@switchyard/ledger';
import { createRegistry } from '@switchyard/telemetry';
import { describe, expect, it } from 'vitest';
import { MeteredLedger, WorkerMetrics } from './metrics.ts';

const entry = (over: Partial<AttemptEntry>): AttemptEntry => ({
  jobId: 'j_1',
  attempt: 1,
  tenantId: 't_1',
  lane: 'interactive',
  kind: 'completion',
  provider: 'openai',
  model: 'gpt-4o-mini',
  proxyId: null,
  outcome: 'ok',
  interrupted: false,
  latencyMs: 10,
  inputTokens: 1,
  outputTokens: 1,
  bytes: 0,
  costNanos: 0,
  at: Date.now(),
  ...over,
});

describe('counters the alerts fire on', () => {
  it('start at 0 for every lane and reason, so the first refusal or give-up is an increase', async () => {
    const registry = createRegistry('worker');
    new WorkerMetrics(registry, { status: 'ready', ping: () => Promise.resolve('PONG') });
    const text = await registry.metrics();
    for (const lane of ['interactive', 'batch'])
      expect(text).toContain(
        `switchyard_retry_budget_decisions_total{lane="${lane}",result="refused",app="worker"} 0`,
      );
    expect(text).toContain(
      'switchyard_webhooks_given_up_total{type="job.finished",reason="attempts_exhausted",app="worker"} 0',
    );
    expect(text.match(/^switchyard_webhooks_given_up_total\{/gm)).toHaveLength(8);
  });
});

describe('switchyard_cost_usd_total', () => {
  it('counts what each attempt written to the ledger cost, once, by tenant and model', async () => {
    const registry = createRegistry('worker');
    const metrics = new WorkerMetrics(registry, { status: 'ready', ping: () => Promise.resolve('PONG') });
    const seen = new Set<string>();
    const ledger = new MeteredLedger(
      {
        record: (e: AttemptEntry): Promise<RecordResult> => {
          const key = `${e.jobId}:${e.attempt}`;
          const status = seen.has(key) ? 'duplicate' : 'recorded';
          seen.add(key);
          return Promise.resolve({ status, jobCostNanos: e.costNanos });
        },
      },
      metrics,
    );
    await ledger.record(entry({ costNanos: 1_500_000_000 }));
    await ledger.record(entry({ costNanos: 1_500_000_000 })); // a replayed write: billed once
    await ledger.record(entry({ jobId: 'j_2', kind: 'scrape', model: null, costNanos: 250_000_000 }));
    await ledger.record(entry({ jobId: 'j_3', outcome: 'upstream_fault' })); // no cost, no series
    const text = await registry.metrics();
    expect(text).toMatch(
      /^switchyard_cost_usd_total\{tenant="t_1",model="gpt-4o-mini",app="worker"\} 1\.5$/m,
    );
    expect(text).toMatch(
      /^switchyard_cost_usd_total\{tenant="t_1",model="\(scrape\)",app="worker"\} 0\.25$/m,
    );
    expect(text.match(/^switchyard_cost_usd_total\{/gm)).toHaveLength(2);
  });
});
