import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

const PROVIDER_KEY = 'sk-provider-9f8e7d6c5b4a3928';
const PROMPT_MARKER = 'PROMPT-SECRET-7d1c';
/** A prompt whose URL-encoded and base64 forms differ from it. */
const ODD_PROMPT = 'odd prompt/7d1c?a=b&c=ü+';
const PAGE_MARKER = 'Page 4242';
/** Proxy passwords with characters URL-encoding changes, so an encoded leak is told apart. */
const proxyCredentials = (i: number) => ({ username: `user${i}`, password: `p/w:${i}@x y+%z${Date.now()}` });

/**
 * Every form a secret could leak in: as is, URL-encoded (path and form style), base64 (what a
 * `Basic` header carries), and for a proxy the whole `Proxy-Authorization: Basic …` value.
 */
function secretForms(secrets: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [what, secret] of Object.entries(secrets)) {
    out[what] = secret;
    out[`${what}, URL-encoded`] = encodeURIComponent(secret);
    out[`${what}, form-encoded`] = new URLSearchParams({ s: secret }).toString().slice(2);
    out[`${what}, base64`] = Buffer.from(secret).toString('base64');
    out[`${what}, base64url`] = Buffer.from(secret).toString('base64url');
  }
  return out;
}

const proxySecrets = (proxies: ProxyFleet['proxies']) =>
  Object.fromEntries(
    proxies.flatMap((p) => {
      const c = p.credentials ?? { username: 'none', password: 'none' };
      return [
        [`password of ${p.id}`, c.password],
        [`Basic credentials of ${p.id}`, Buffer.from(`${c.username}:${c.password}`).toString('base64')],
        [`proxy URL of ${p.id}`, p.url],
      ];
    }),
  );

function expectNoSecrets(logs: string, secrets: Record<string, string>): void {
  const leaked = Object.entries(secretForms(secrets))
    .filter(([, form]) => logs.includes(form))
    .map(([what]) => what);
  expect(leaked).toEqual([]);
}

let mock: MockLlm;
let site: MockSite;
let fleet: ProxyFleet;
let t: TestStack;

beforeAll(async () => {
  mock = await startMockLlm({ apiKey: PROVIDER_KEY });
  site = await startMockSite();
  fleet = await startProxyFleet({ count: 3, firstHostOctet: 61, credentials: proxyCredentials });
  t = await startTestStack({
    mock,
    secrets: { MOCK_PROVIDER_KEY: PROVIDER_KEY },
    config: {
      log: { level: 'trace' },
      scrape: { egress: 'pool' },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url })),
      models: {
        mock: {
          baseUrl: `${mock.url}/v1`,
          upstreamModel: 'mock-small',
          apiKeyEnv: 'MOCK_PROVIDER_KEY',
          price: MOCK_PRICE,
          timeoutMs: 1_000,
        },
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await fleet?.stop();
  await site?.close();
  await mock?.close();
});

describe('logs never carry secrets', () => {
  it('after a run through every path, no key, proxy password, provider key, prompt or page body is in the logs', async () => {
    const { key, api, tenantId } = await t.tenant();
    // Completions (direct), with a prompt that must not be logged; a failure path too.
    expect(
      (await api.post<JobRecord>('/v1/jobs', completion(PROMPT_MARKER), { prefer: 'wait=10' })).body.status,
    ).toBe('succeeded');
    mock.setFaults({ error5xx: 1 });
    await api.post('/v1/jobs', completion(`${PROMPT_MARKER} again`), { prefer: 'wait=10' });
    // Error paths: an error inside a 200, an upstream that never answers, a stream cut mid-answer,
    // a request the API refuses with the prompt inside it, and unparseable JSON around a key.
    for (const faults of [{ errorIn200: 1 }, { timeout: 1 }]) {
      mock.setFaults(faults);
      await api.post('/v1/jobs', completion(ODD_PROMPT), { prefer: 'wait=15' });
    }
    mock.setFaults({ streamCut: 1 });
    const cut = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    const consume = async () => {
      const s = await cut.chat.completions.create({
        model: 'mock',
        messages: [{ role: 'user', content: ODD_PROMPT }],
        stream: true,
      });
      for await (const _ of s) void _;
    };
    await expect(consume()).rejects.toThrow();
    mock.setFaults({});
    await api.post('/v1/jobs', { ...completion(ODD_PROMPT), bogus: ODD_PROMPT });
    await api.post('/v1/jobs', `{"request": "${ODD_PROMPT}", "key": "${key}"`);
    // Streaming through the OpenAI SDK.
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    for await (const _ of await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: PROMPT_MARKER }],
      stream: true,
    }))
      void _;
    // Scrapes through credentialed proxies: one refuses the credentials, one resets every
    // connection (proxy faults are where a proxy URL with its password would slip into an error).
    await fleet.proxies[0]?.setFault('auth');
    await fleet.proxies[1]?.setFault({ resetProbability: 1 });
    for (let i = 0; i < 4; i++) {
      const job = await api.post<JobRecord>(
        '/v1/jobs',
        { type: 'scrape', lane: 'interactive', request: { url: `${site.url}/page/4242` } },
        { prefer: 'wait=10' },
      );
      expect(job.body.status, JSON.stringify(job.body.error)).toBe('succeeded');
    }
    // Admin paths and failed authentication.
    const extra = await t.admin.post<{ key: string }>(`/v1/admin/tenants/${tenantId}/keys`, {
      scopes: ['jobs:read'],
    });
    await new Api(t.url, `${key}x`).get('/v1/usage');
    await new Api(t.url, extra.body.key).post('/v1/jobs', completion());
    await t.admin.get('/v1/admin/proxies');

    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(1000);
    // The error paths ran: the proxy faults and the upstream faults are in the logs.
    expect(logs).toMatch(/proxy_fault/);
    expect(logs).toMatch(/upstream_fault/);
    expectNoSecrets(logs, {
      'tenant key': key,
      'second key': extra.body.key,
      'admin key': t.adminKey,
      'provider key': PROVIDER_KEY,
      prompt: PROMPT_MARKER,
      'odd prompt': ODD_PROMPT,
      'page body': PAGE_MARKER,
      ...proxySecrets(fleet.proxies),
    });
  }, 120_000);

  it('the check finds a secret in each form it looks for (it can fail)', () => {
    const secret = ODD_PROMPT;
    for (const line of [
      `{"msg":"${secret}"}`,
      `GET /x?q=${encodeURIComponent(secret)}`,
      `proxy-authorization: Basic ${Buffer.from(secret).toString('base64')}`,
    ])
      expect(() => expectNoSecrets(line, { secret })).toThrow();
  });
});

describe('logs of crashed and re-run workers never carry secrets', () => {
  let crash: TestStack;
  let slow: MockLlm;
  const workers: WorkerProcess[] = [];
  const output: string[] = [];
  const collect = (w: WorkerProcess) => {
    output.push(...w.output);
    w.child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
    w.child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    slow = await startMockLlm({ apiKey: PROVIDER_KEY, latencyMs: 3_000 });
    crash = await startTestStack({
      mock: slow,
      worker: false,
      config: {
        log: { level: 'trace' },
        worker: { lockDurationMs: 1_500 },
        models: {
          mock: {
            baseUrl: `${slow.url}/v1`,
            upstreamModel: 'mock-small',
            apiKeyEnv: 'MOCK_PROVIDER_KEY',
            price: MOCK_PRICE,
          },
        },
      },
    });
  });
  afterAll(async () => {
    for (const w of workers) w.terminate('SIGKILL');
    await crash?.close();
    await slow?.close();
  });

  it('a worker SIGKILLed mid-job, and the one that re-runs it, log neither prompt nor keys', async () => {
    const { key, api } = await crash.tenant();
    const cfg = writeConfigFile(crash.config);
    // What an operator's environment gives a worker, logging everything it can.
    const env = { MOCK_PROVIDER_KEY: PROVIDER_KEY, LOG_LEVEL: 'trace' };
    const first = collect(await startWorkerProcess(cfg, [], env));
    const job = await api.post<JobRecord>('/v1/jobs', completion(ODD_PROMPT, { lane: 'batch' }));
    await until('the upstream call to start', () => slow.stats().calls > 0, 20_000);
    first.terminate('SIGKILL');
    await first.exited;
    collect(await startWorkerProcess(cfg, [], env));
    const done = await until(
      'the re-run to finish',
      async () => {
        const r = await api.get<JobRecord>(`/v1/jobs/${job.body.id}`, { prefer: 'wait=5' });
        return r.body.finished_at ? r.body : undefined;
      },
      60_000,
    );
    expect(done.status).toBe('succeeded');
    expect(done.attempt_log?.map((a) => a.interrupted)).toEqual([true, false]);
    const logs = output.join('') + crash.logs.join('');
    // The re-run logged the job's attempt at debug level: the check had something to read.
    expect(output.join('')).toContain(done.id);
    expectNoSecrets(logs, {
      'tenant key': key,
      'admin key': crash.adminKey,
      'provider key': PROVIDER_KEY,
      'odd prompt': ODD_PROMPT,
    });
  }, 120_000);
});
