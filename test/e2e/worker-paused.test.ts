import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import { ProxyPool } from '@switchyard/proxy-pool';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { settle, WebhookReceiver, webhookTenant } from './support/webhook-receiver.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

interface Usage {
  total: { attempts: number; input_tokens: number; output_tokens: number };
}

const LOCK_MS = 1_500;
const UPSTREAM_MS = 3_000;

let mock: MockLlm;
let site: MockSite;
let fleet: ProxyFleet;
let receiver: WebhookReceiver;
let t: TestStack;
let redis: Redis;
let pool: ProxyPool;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  mock = await startMockLlm({ latencyMs: UPSTREAM_MS });
  site = await startMockSite({ host: '127.0.0.6' });
  // One proxy: the test's own lease below is on the proxy whose lease the paused worker held.
  fleet = await startProxyFleet({ count: 1, firstHostOctet: 61 });
  receiver = await WebhookReceiver.start();
  t = await startTestStack({
    mock,
    worker: false,
    config: {
      worker: { lockDurationMs: LOCK_MS, concurrency: { interactive: 4, batch: 2 } },
      // A timeout far past the pause: the paused worker's answer is read, not timed out, so its
      // tokens are real (billed by the upstream) and must reach the ledger.
      models: {
        mock: {
          baseUrl: `${mock.url}/v1`,
          upstreamModel: 'mock-small',
          price: MOCK_PRICE,
          timeoutMs: 60_000,
        },
      },
      scrape: { egress: 'pool', timeoutMs: 3_500, robots: { enabled: false }, perHost: { enabled: false } },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url, maxConcurrency: 2 })),
      pool: { interactiveReserve: 0, leaseMarginMs: 500 },
      log: { level: 'warn' },
    },
  });
  redis = new Redis(t.redis.url);
  pool = new ProxyPool({ redis, prefix: t.config.redis.prefix });
});
afterAll(async () => {
  for (const w of workers) {
    w.child.kill('SIGCONT');
    w.terminate('SIGKILL');
  }
  redis?.disconnect();
  await t?.close();
  await receiver?.close();
  await fleet?.stop();
  await site?.close();
  await mock?.close();
});

const read = (api: Api, id: string) => api.get<JobRecord>(`/v1/jobs/${id}`).then((r) => r.body);

describe('a worker paused (SIGSTOP) mid-job past its lock, resumed after another worker re-ran the job', () => {
  it('the client keeps the one final result, one webhook, both attempts in the ledger once each, and the late pool release is fenced', async () => {
    const { api } = await webhookTenant(t, []);
    const hook = receiver.on('/paused', () => ({ status: 200 }));
    const cfg = writeConfigFile(t.config);
    const a = await startWorkerProcess(cfg);
    workers.push(a);
    const ask = await api.post<JobRecord>(
      '/v1/jobs',
      completion('paused worker', { webhook: { url: hook } }),
    );
    const scrape = await api.post<JobRecord>('/v1/jobs', {
      type: 'scrape',
      request: { url: `${site.url}/slow?ms=${UPSTREAM_MS}` },
    });
    const ids = [ask.body.id, scrape.body.id];
    await until('both attempts in flight on worker A', async () => {
      const seen = await Promise.all(ids.map((id) => read(api, id)));
      return seen.every((j) => j.status === 'running') && (await pool.counts()).inFlight === 1;
    });
    await new Promise((r) => setTimeout(r, 300)); // the calls have left A
    a.child.kill('SIGSTOP');

    // A's lock runs out while it is frozen; B finds the jobs stalled and runs them again.
    await new Promise((r) => setTimeout(r, LOCK_MS * 2));
    const b = await startWorkerProcess(cfg);
    workers.push(b);
    const final = await Promise.all(
      ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' })).body),
    );
    expect(final.map((j) => [j.status, j.attempts])).toEqual([
      ['succeeded', 2],
      ['succeeded', 2],
    ]);
    await until('the one webhook', () => receiver.at('/paused').length === 1);
    // A's scrape lease expired with A frozen: the pool takes the capacity back, and a new lease
    // (held by this test) takes it, so a late release that was not fenced would show.
    await until('A’s lease reclaimed', async () => (await pool.counts()).inFlight === 0, 15_000, 200);
    const held = await pool.lease({ lane: 'interactive', host: '127.0.0.6' });
    expect(held.exhausted).toBeFalsy();

    a.child.kill('SIGCONT');
    // A wakes up: its completion answer is already in its socket, its scrape has timed out.
    // Both late attempts reach the ledger as attempt 1 (replacing the interrupted note B wrote).
    await until(
      'A’s late attempts in the ledger',
      async () => {
        const jobs = await Promise.all(ids.map((id) => read(api, id)));
        return jobs.every((j) => j.attempt_log?.[0] && !j.attempt_log[0].interrupted);
      },
      20_000,
      200,
    );
    await settle();
    await new Promise((r) => setTimeout(r, LOCK_MS));

    const after = await Promise.all(ids.map((id) => read(api, id)));
    for (const [i, j] of after.entries()) {
      const before = final[i];
      expect(j.status).toBe('succeeded');
      expect(j.result).toEqual(before?.result);
      expect(j.finished_at).toBe(before?.finished_at);
      expect(j.attempt_log?.map((e) => e.attempt)).toEqual([1, 2]);
    }
    expect(receiver.at('/paused')).toHaveLength(1);
    // Both upstream calls are billed and both are in the ledger, with the upstream's tokens.
    const usage = (await api.get<Usage>('/v1/usage')).body.total;
    expect(usage.attempts).toBe(4);
    expect(mock.stats().calls).toBe(2);
    expect(usage.input_tokens).toBe(mock.stats().promptTokens);
    expect(usage.output_tokens).toBe(mock.stats().completionTokens);
    // The late release of A's expired lease changed nothing: only this test's lease is held.
    expect((await pool.counts()).inFlight).toBe(1);
    // ...nor on the proxy's own count, which decides how many more leases it grants.
    expect((await pool.list()).map((p) => p.inFlight)).toEqual([1]);
    if (!held.exhausted) await pool.release(held, { outcome: 'ok' });
    expect((await pool.counts()).inFlight).toBe(0);
    expect(a.child.exitCode).toBeNull(); // A goes on working
  });
});
