import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';

const PROVIDER_KEY = 'sk-provider-9f8e7d6c5b4a3928';
const PROMPT_MARKER = 'PROMPT-SECRET-7d1c';
const PAGE_MARKER = 'Page 4242';

let mock: MockLlm;
let site: MockSite;
let fleet: ProxyFleet;
let t: TestStack;

beforeAll(async () => {
  mock = await startMockLlm({ apiKey: PROVIDER_KEY });
  site = await startMockSite();
  fleet = await startProxyFleet({ count: 2, firstHostOctet: 61, credentials: true });
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
    mock.setFaults({});
    // Streaming through the OpenAI SDK.
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    for await (const _ of await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: PROMPT_MARKER }],
      stream: true,
    }))
      void _;
    // Scrapes through credentialed proxies (one of them refusing the credentials).
    await fleet.proxies[0]?.setFault('auth');
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
    const secrets = {
      'tenant key': key,
      'second key': extra.body.key,
      'admin key': t.adminKey,
      'provider key': PROVIDER_KEY,
      prompt: PROMPT_MARKER,
      'page body': PAGE_MARKER,
      ...Object.fromEntries(
        fleet.proxies.map((p) => [`password of ${p.id}`, p.credentials?.password ?? 'none']),
      ),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      expect(logs.includes(secret), `${what} appears in the logs`).toBe(false);
    }
  });
});
