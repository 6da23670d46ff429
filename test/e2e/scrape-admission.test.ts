import type { JobRecord, Problem } from '@switchyard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The admission half of the SSRF guard. The stack has no worker, so a job that admission wrongly
 * let through would only wait in the queue: nothing here can send a packet anywhere. What runs
 * (DNS, redirects, pinning) is tested inside a network namespace (scrape-ssrf-netns.test.ts).
 */
let t: TestStack;
let api: Api;

beforeAll(async () => {
  t = await startTestStack({
    worker: false,
    // The production defaults, not the e2e allow-list of 127.0.0.0/8 on any port.
    config: {
      scrape: { allowCidrs: [], allowPorts: [80, 443, 8080, 8443] },
      webhooks: { allowCidrs: [], allowPorts: [80, 443, 8080, 8443] },
    },
  });
  const tenant = await t.tenant();
  api = tenant.api;
  await t.admin.post(`/v1/admin/tenants/${tenant.tenantId}/webhook-secret`, {});
});
afterAll(async () => {
  await t?.close();
});

const scrape = (url: string) =>
  api.post<JobRecord & Problem>('/v1/jobs', { type: 'scrape', lane: 'batch', request: { url } });

const FORBIDDEN = [
  'http://127.0.0.1/',
  'http://2130706433/',
  'http://0x7f.1/',
  'http://0177.0.0.1/',
  'http://localhost/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://10.0.0.1/',
  'http://192.168.1.1/',
  'http://172.16.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/',
  'http://100.100.100.200/',
  'http://100.64.0.1/',
  'http://0.0.0.0/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[2002:a9fe:a9fe::]/',
  'http://example.com:22/',
  'https://example.com:6379/',
];

describe('scrape admission (no DNS, no worker)', () => {
  it.each(FORBIDDEN)('POST /v1/jobs %s → 400 target_forbidden on request.url', async (url) => {
    const res = await scrape(url);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      code: 'target_forbidden',
      status: 400,
      errors: [{ path: 'request.url' }],
    });
  });

  it('a host name is admitted: its addresses are judged by the worker after DNS', async () => {
    for (const url of ['http://example.com/', 'https://example.com:8443/a', 'http://93.184.216.34:8080/']) {
      expect((await scrape(url)).status).toBe(202);
    }
  });

  it('batch lines with a forbidden target are rejected as target_forbidden; the others are accepted', async () => {
    const line = (id: string, url: string) => ({ custom_id: id, type: 'scrape', request: { url } });
    const res = await api.post<{
      counts: { total: number };
      rejected_lines: { line: number; custom_id: string; code: string; errors: { path: string }[] }[];
    }>('/v1/batches', [
      line('ok', 'https://example.com/'),
      line('metadata', 'http://169.254.169.254/'),
      line('redis', 'http://example.com:6379/'),
      line('loopback', 'http://0x7f000001/'),
    ]);
    expect(res.status).toBe(202);
    expect(res.body.rejected_lines).toEqual([
      {
        line: 2,
        custom_id: 'metadata',
        code: 'target_forbidden',
        errors: [expect.objectContaining({ path: 'request.url' })],
      },
      {
        line: 3,
        custom_id: 'redis',
        code: 'target_forbidden',
        errors: [expect.objectContaining({ path: 'request.url' })],
      },
      {
        line: 4,
        custom_id: 'loopback',
        code: 'target_forbidden',
        errors: [expect.objectContaining({ path: 'request.url' })],
      },
    ]);
  });
});

describe('webhook URL admission (the same guard, webhooks.allowCidrs / allowPorts)', () => {
  const withHook = (url: string) => ({
    type: 'completion',
    lane: 'batch',
    request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
    webhook: { url },
  });

  it.each(FORBIDDEN)('POST /v1/jobs with webhook %s → 400 target_forbidden on webhook.url', async (url) => {
    const res = await api.post<Problem>('/v1/jobs', withHook(url));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'target_forbidden', errors: [{ path: 'webhook.url' }] });
  });

  it('a batch webhook_url or a line webhook at a forbidden address is refused; a host name passes', async () => {
    const q = encodeURIComponent('http://169.254.169.254/hook');
    const whole = await api.post<Problem>(`/v1/batches?webhook_url=${q}`, [
      { custom_id: 'a', ...withHook('https://example.com/hook') },
    ]);
    expect(whole.status).toBe(400);
    expect(whole.body).toMatchObject({ code: 'target_forbidden', errors: [{ path: 'webhook_url' }] });

    const res = await api.post<{ rejected_lines: { custom_id: string; code: string }[] }>('/v1/batches', [
      { custom_id: 'ok', ...withHook('https://hooks.example.com/switchyard') },
      { custom_id: 'private', ...withHook('http://10.1.2.3/hook') },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.rejected_lines).toEqual([
      expect.objectContaining({ custom_id: 'private', code: 'target_forbidden' }),
    ]);
  });
});
