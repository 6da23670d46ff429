import type { JobRecord, ScrapeResult } from '@switchyard/contracts';
import { startMisbehavingSite, type MisbehavingSite } from '@switchyard/mock-upstream';
import { ProxyPool } from '@switchyard/proxy-pool';
import {
  freePort,
  makeTestCa,
  selfSignedCert,
  startProxyFleet,
  startTlsSite,
  type ProxyFleet,
  type TlsSite,
} from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

/**
 * Every way a fetch can fail, driven end to end against local servers that misbehave the way real
 * ones do, directly and through the proxy pool: each ends with its own code and the number of
 * attempts the retry authority allows, never `internal_job_error`. The worker runs as its own
 * process so it can be given the test CA through NODE_EXTRA_CA_CERTS.
 */

const SITE_IP = '127.0.0.84';
const TLS_IP = '127.0.0.85';
const MAX_ATTEMPTS = 3;
const DAY = 86_400_000;
/** USD per GB of proxy traffic: nano-USD per byte. */
const PRICE_PER_GB = 3;

let fleet: ProxyFleet;
let bad: MisbehavingSite;
let refusedUrl: string;
const tls: Record<'good' | 'untrusted' | 'mismatch' | 'expired', TlsSite> = {} as never;
let caFile: string;

beforeAll(async () => {
  fleet = await startProxyFleet({ count: 3, firstHostOctet: 81 });
  bad = await startMisbehavingSite({ host: SITE_IP });
  refusedUrl = `http://${SITE_IP}:${await freePort(SITE_IP)}/`;
  const ca = makeTestCa();
  caFile = ca.caFile;
  const expired = { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) };
  tls.good = await startTlsSite({ host: TLS_IP, pair: ca.issue({ ips: [TLS_IP] }) });
  tls.untrusted = await startTlsSite({ host: TLS_IP, pair: selfSignedCert({ ips: [TLS_IP] }) });
  tls.mismatch = await startTlsSite({ host: TLS_IP, pair: ca.issue({ dns: ['elsewhere.test'] }) });
  tls.expired = await startTlsSite({ host: TLS_IP, pair: ca.issue({ ips: [TLS_IP], ...expired }) });
});
afterAll(async () => {
  await Promise.all(Object.values(tls).map((s) => s.close()));
  await bad?.close();
  await fleet?.stop();
});

interface Harness {
  t: TestStack;
  api: Api;
  worker: WorkerProcess;
  redis: Redis;
  pool: ProxyPool;
}

/** An API in this process and a worker process with the test CA, scrapes leaving by `egress`. */
async function harness(egress: 'direct' | 'pool'): Promise<Harness> {
  const t = await startTestStack({
    worker: false,
    config: {
      scrape: { egress, timeoutMs: 10_000, robots: { enabled: false }, perHost: { enabled: false } },
      // Every case here fails on purpose: the retry budget must not end them early.
      jobs: { maxAttempts: MAX_ATTEMPTS, retryBudget: { floor: 10_000 } },
      // A faulted proxy stays out for the whole test: the retry must take another one.
      pool: { interactiveReserve: 0, quarantineBaseMs: 120_000, probeIntervalMs: 600_000 },
      models: {
        'llm-garbage': { baseUrl: `${bad.url}/garbage/v1`, upstreamModel: 'x', egress },
        'llm-bad-gzip': { baseUrl: `${bad.url}/bad-gzip/v1`, upstreamModel: 'x', egress },
        'llm-gzip': { baseUrl: `${bad.url}/chat-gzip/v1`, upstreamModel: 'x', egress },
        'llm-untrusted': { baseUrl: `${tls.untrusted.url}/v1`, upstreamModel: 'x', egress },
      },
    },
  });
  const worker = await startWorkerProcess(writeConfigFile(t.config), [], { NODE_EXTRA_CA_CERTS: caFile });
  const redis = new Redis(t.redis.url);
  const pool = new ProxyPool({ redis, prefix: t.config.redis.prefix });
  return { t, api: (await t.tenant()).api, worker, redis, pool };
}

async function closeHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  h.worker.terminate();
  await h.worker.exited;
  h.redis.disconnect();
  await h.t.close();
}

async function run(h: Harness, body: Record<string, unknown>): Promise<JobRecord> {
  const created = await h.api.post<JobRecord>('/v1/jobs', { lane: 'interactive', ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  for (const until = Date.now() + 90_000; ;) {
    const job = (await h.api.get<JobRecord>(`/v1/jobs/${created.body.id}`, { prefer: 'wait=20' })).body;
    if (['succeeded', 'failed', 'canceled'].includes(job.status) || Date.now() > until) return job;
  }
}
const scrape = (h: Harness, url: string) => run(h, { type: 'scrape', request: { url } });
const complete = (h: Harness, model: string) =>
  run(h, { type: 'completion', request: { model, messages: [{ role: 'user', content: 'hi' }] } });

/** Every job either succeeded or failed with a code; none as a bug of ours. */
const seen: JobRecord[] = [];
function expectFailure(job: JobRecord, code: string, attempts: number): void {
  seen.push(job);
  expect({ status: job.status, code: job.error?.code, attempts: job.attempts }).toEqual({
    status: 'failed',
    code,
    attempts,
  });
}
afterAll(() => {
  expect(seen.filter((j) => j.error?.code === 'internal_job_error')).toEqual([]);
});

/** [name, path or URL, code, attempts direct, code via proxy, attempts via proxy] */
type Case = [string, () => string, string, number, string, number];
const CASES: Case[] = [
  // Through a plain-HTTP proxy, a target that breaks HTTP before its headers is the proxy's 502.
  ['bytes that are not HTTP', () => `${bad.url}/garbage`, 'upstream_protocol_error', 3, 'upstream_error', 3],
  ['a body cut short', () => `${bad.url}/cut`, 'upstream_unreachable', 3, 'upstream_unreachable', 3],
  [
    'an invalid gzip body',
    () => `${bad.url}/bad-gzip`,
    'content_decoding_failed',
    1,
    'content_decoding_failed',
    1,
  ],
  ['a gzip bomb', () => `${bad.url}/bomb`, 'response_too_large', 1, 'response_too_large', 1],
  ['a redirect loop', () => `${bad.url}/loop`, 'too_many_redirects', 1, 'too_many_redirects', 1],
  ['a connection reset', () => `${bad.url}/reset`, 'upstream_unreachable', 3, 'upstream_error', 3],
  ['a refused connection', () => refusedUrl, 'upstream_unreachable', 3, 'upstream_error', 3],
  // TLS: never retried direct; through a proxy retried once, through another proxy.
  [
    'an untrusted certificate',
    () => `${tls.untrusted.url}/`,
    'upstream_tls_error',
    1,
    'upstream_tls_error',
    2,
  ],
  [
    'a certificate for another name',
    () => `${tls.mismatch.url}/`,
    'upstream_tls_error',
    1,
    'upstream_tls_error',
    2,
  ],
  ['an expired certificate', () => `${tls.expired.url}/`, 'upstream_tls_error', 1, 'upstream_tls_error', 2],
];

describe('direct: a code for every way a fetch fails', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('direct');
  }, 60_000);
  afterAll(() => closeHarness(h));

  it.each(CASES)('%s', async (_name, url, code, attempts) => {
    expectFailure(await scrape(h, url()), code, attempts);
  });

  it('TLS failures name their reason', async () => {
    expect((await scrape(h, `${tls.expired.url}/`)).error?.message).toContain('the certificate has expired');
    expect((await scrape(h, `${tls.mismatch.url}/`)).error?.message).toContain('does not name the host');
    expect((await scrape(h, `${tls.untrusted.url}/`)).error?.message).toContain('self-signed');
  });

  it('a page from a certificate the test CA issued, and a gzipped page, succeed', async () => {
    expect((await scrape(h, `${tls.good.url}/`)).status).toBe('succeeded');
    const job = await scrape(h, `${bad.url}/gzip`);
    expect(job.status).toBe('succeeded');
    const result = job.result as ScrapeResult;
    expect(result.markdown).toContain('Decoded fine.');
    expect(result.bytes).toBeLessThan(result.decoded_bytes ?? 0);
  });

  it('LLM calls: the same classes, and a gzipped answer is decoded', async () => {
    expectFailure(await complete(h, 'llm-garbage'), 'upstream_protocol_error', MAX_ATTEMPTS);
    expectFailure(await complete(h, 'llm-bad-gzip'), 'content_decoding_failed', 1);
    expectFailure(await complete(h, 'llm-untrusted'), 'upstream_tls_error', 1);
    // A TLS failure ends the model's host at once, and the fallback model (elsewhere) is asked.
    const fellBack = await run(h, {
      type: 'completion',
      request: { model: 'llm-untrusted', messages: [{ role: 'user', content: 'hi' }] },
      fallbacks: ['llm-gzip'],
    });
    expect({ status: fellBack.status, attempts: fellBack.attempts }).toEqual({
      status: 'succeeded',
      attempts: 2,
    });
    const ok = await complete(h, 'llm-gzip');
    expect(ok.error).toBeNull();
    expect(ok.result, JSON.stringify(ok)).toMatchObject({
      type: 'completion',
      message: { content: 'ok' },
      usage: { input_tokens: 3, output_tokens: 1 },
    });
  });
});

describe('through the proxy pool: a code for every way a fetch fails', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('pool');
  }, 60_000);
  afterAll(() => closeHarness(h));
  // Every case starts with the whole fleet healthy (no quarantine, no counts).
  beforeEach(async () => {
    for (const p of await h.pool.list()) await h.pool.remove(p.id);
    for (const p of fleet.proxies)
      await h.pool.upsert({ id: p.id, url: p.url, tags: [], maxConcurrency: 4, pricePerGbUsd: PRICE_PER_GB });
  });

  it.each(CASES)('%s', async (_name, url, _code, _attempts, code, attempts) => {
    expectFailure(await scrape(h, url()), code, attempts);
  });

  it('a gzipped page: the proxy bytes priced and logged are the wire bytes, not the decoded page', async () => {
    const job = await scrape(h, `${bad.url}/gzip`);
    expect(job.status).toBe('succeeded');
    const result = job.result as ScrapeResult;
    expect(result.bytes).toBeLessThan(result.decoded_bytes ?? 0);
    expect(job.attempt_log?.map((a) => a.bytes)).toEqual([result.bytes]);
    expect(job.cost.nano_usd).toBe(result.bytes * PRICE_PER_GB);
  });

  it('a TLS failure counts against the health of each proxy it went through, once', async () => {
    expectFailure(await scrape(h, `${tls.expired.url}/`), 'upstream_tls_error', 2);
    // Each proxy the attempts went through has one fault on record and is quarantined (the
    // retry left through another); the third was never asked.
    const health = await h.pool.list();
    expect(health.map((p) => p.consecutiveFaults).sort()).toEqual([0, 1, 1]);
    expect(health.filter((p) => p.state === 'quarantined').map((p) => p.consecutiveFaults)).toEqual([1, 1]);
  });

  it('LLM calls through a proxy: the same classes', async () => {
    expectFailure(await complete(h, 'llm-bad-gzip'), 'content_decoding_failed', 1);
    expectFailure(await complete(h, 'llm-untrusted'), 'upstream_tls_error', 2);
    expect((await complete(h, 'llm-gzip')).status).toBe('succeeded');
  });
});
