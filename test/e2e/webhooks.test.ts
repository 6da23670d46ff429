import {
  signPayload,
  verifySignature,
  type JobRecord,
  type Problem,
  type Tenant,
  type WebhookSecretCreated,
} from '@switchyard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion } from './support/api.ts';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { eventOf, header, settle, WebhookReceiver, webhookTenant } from './support/webhook-receiver.ts';

const BACKOFF_MS = 200;
const MAX_ATTEMPTS = 4;

let t: TestStack;
let receiver: WebhookReceiver;
/** Every secret issued in this file, for the log check at the end. */
const secrets: string[] = [];
const tenantWithSecret = () => webhookTenant(t, secrets);

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestStack({
    config: {
      // One interactive slot: a delivery in flight must not be holding it.
      worker: { concurrency: { interactive: 1 } },
      webhooks: { maxAttempts: MAX_ATTEMPTS, backoffMs: BACKOFF_MS, timeoutMs: 3_000 },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('webhook secrets and admission', () => {
  it('the admin creates and rotates a whsec_ secret, shown once; the tenant shows only that one is set', async () => {
    const { tenantId } = await t.tenant();
    expect((await t.admin.get<Tenant>(`/v1/admin/tenants/${tenantId}`)).body.webhook_secret_set).toBe(false);
    const first = await t.admin.post<WebhookSecretCreated>(
      `/v1/admin/tenants/${tenantId}/webhook-secret`,
      {},
    );
    expect(first.status).toBe(201);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toMatchObject({ object: 'webhook_secret', tenant_id: tenantId });
    expect(first.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    secrets.push(first.body.secret);
    const second = await t.admin.post<WebhookSecretCreated>(
      `/v1/admin/tenants/${tenantId}/webhook-secret`,
      {},
    );
    secrets.push(second.body.secret);
    expect(second.body.secret).not.toBe(first.body.secret);
    const tenant = await t.admin.get<Tenant>(`/v1/admin/tenants/${tenantId}`);
    expect(tenant.body.webhook_secret_set).toBe(true);
    expect(JSON.stringify(tenant.body)).not.toContain('whsec_');
    const missing = await t.admin.post<Problem>('/v1/admin/tenants/no-such-tenant/webhook-secret', {});
    expect(missing.body).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('without a tenant secret, a job or batch naming a webhook is a 400 webhook_secret_missing', async () => {
    const { api } = await t.tenant();
    const url = receiver.on('/never', () => ({ status: 200 }));
    const job = await api.post<Problem>('/v1/jobs', completion('hi', { webhook: { url } }));
    expect(job.status).toBe(400);
    expect(job.body).toMatchObject({ code: 'webhook_secret_missing', errors: [{ path: 'webhook' }] });
    const line = { custom_id: 'a', type: 'completion', request: { model: MOCK_MODEL, messages: [] } };
    const batch = await api.post<Problem>(`/v1/batches?webhook_url=${encodeURIComponent(url)}`, [line]);
    expect(batch.status).toBe(400);
    expect(batch.body).toMatchObject({ code: 'webhook_secret_missing', errors: [{ path: 'webhook_url' }] });
    // A line's own webhook is rejected on its own; the other lines run.
    const ask = { model: MOCK_MODEL, messages: [{ role: 'user', content: 'x' }] };
    const lines = [
      { custom_id: 'a', type: 'completion', request: ask },
      { custom_id: 'b', type: 'completion', request: ask, webhook: { url } },
    ];
    const mixed = await api.post<{ counts: Record<string, number>; rejected_lines: { code: string }[] }>(
      '/v1/batches',
      lines,
    );
    expect(mixed.body.counts).toMatchObject({ accepted: 1, rejected: 1 });
    expect(mixed.body.rejected_lines[0]?.code).toBe('webhook_secret_missing');
    expect(receiver.arrived('/never')).toBe(0);
  });

  it('a webhook URL must be http(s), at most 2048 characters, without credentials', async () => {
    const { api } = await tenantWithSecret();
    for (const url of [
      'not a url',
      'ftp://example.com/hook',
      'http://user:pw@example.com/hook',
      `http://e.com/${'a'.repeat(2048)}`,
    ]) {
      const res = await api.post<Problem>('/v1/jobs', completion('hi', { webhook: { url } }));
      expect(res.body).toMatchObject({ status: 400, code: 'validation_failed' });
    }
  });
});

describe('job.finished', () => {
  it('a job with a webhook delivers one signed event that verifySignature accepts, with its final status', async () => {
    const { api, secret } = await tenantWithSecret();
    const url = receiver.on('/job/ok', () => ({ status: 200 }));
    const res = await api.post<JobRecord>('/v1/jobs', completion('hook me', { webhook: { url } }), {
      prefer: 'wait=10',
    });
    expect(res.body).toMatchObject({ status: 'succeeded', webhook: { url } });
    const [got] = await until('the event', () =>
      receiver.at('/job/ok').length ? receiver.at('/job/ok') : undefined,
    );
    if (!got) throw new Error('no event');
    expect(header(got, 'content-type')).toBe('application/json');
    expect(verifySignature(secret, header(got, 'switchyard-signature'), got.body)).toBe(true);
    const event = eventOf<JobRecord>(got);
    expect(event).toMatchObject({ type: 'job.finished', id: header(got, 'switchyard-event-id') });
    expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(event.data).toMatchObject({
      id: res.body.id,
      status: 'succeeded',
      result: { type: 'completion' },
    });
    expect(event.data.cost).toEqual(res.body.cost);
    expect(event.created_at).toBe(res.body.finished_at);
    expect(event.data).not.toHaveProperty('attempt_log');
    await settle();
    expect(receiver.at('/job/ok')).toHaveLength(1);
  });

  it('failed and canceled jobs report their final status too', async () => {
    const { api, secret } = await tenantWithSecret();
    const failedUrl = receiver.on('/job/failed', () => ({ status: 204 }));
    t.mock.setFaults({ error5xx: 1 });
    try {
      const failed = await api.post<JobRecord>(
        '/v1/jobs',
        completion('fail', { webhook: { url: failedUrl } }),
        {
          prefer: 'wait=10',
        },
      );
      expect(failed.body.status).toBe('failed');
    } finally {
      t.mock.setFaults({});
    }
    const canceledUrl = receiver.on('/job/canceled', () => ({ status: 200 }));
    t.mock.setFaults({ timeout: 1 });
    try {
      const running = await api.post<JobRecord>(
        '/v1/jobs',
        completion('hang', { webhook: { url: canceledUrl } }),
      );
      await until(
        'the job to run',
        async () => (await api.get<JobRecord>(`/v1/jobs/${running.body.id}`)).body.status === 'running',
      );
      await api.delete(`/v1/jobs/${running.body.id}`);
    } finally {
      t.mock.setFaults({});
    }
    for (const [path, status] of [
      ['/job/failed', 'failed'],
      ['/job/canceled', 'canceled'],
    ] as const) {
      const [got] = await until(`the ${status} event`, () =>
        receiver.at(path).length ? receiver.at(path) : undefined,
      );
      if (!got) throw new Error('no event');
      expect(verifySignature(secret, header(got, 'switchyard-signature'), got.body)).toBe(true);
      expect(eventOf<JobRecord>(got).data).toMatchObject({ status, error: { code: expect.any(String) } });
    }
  });

  it('a tampered body, another secret or an old timestamp fails verifySignature', async () => {
    const { api, secret } = await tenantWithSecret();
    const url = receiver.on('/job/tamper', () => ({ status: 200 }));
    await api.post('/v1/jobs', completion('tamper', { webhook: { url } }));
    const [got] = await until('the event', () => receiver.at('/job/tamper')[0] && receiver.at('/job/tamper'));
    if (!got) throw new Error('no event');
    expect(verifySignature(secret, header(got, 'switchyard-signature'), got.body)).toBe(true);
    const sig = header(got, 'switchyard-signature');
    expect(verifySignature(secret, sig, got.body.replace('"succeeded"', '"failed"'))).toBe(false);
    expect(verifySignature(`${secret}x`, sig, got.body)).toBe(false);
    expect(
      verifySignature(
        secret,
        sig.replace(/t=\d+/, (m) => `t=${Number(m.slice(2)) - 1}`),
        got.body,
      ),
    ).toBe(false);
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(secret, signPayload(secret, got.body, now - 301), got.body)).toBe(false);
    expect(verifySignature(secret, signPayload(secret, got.body, now - 301), got.body, 600)).toBe(true);
  });

  it('500, 500, then 200: delivered on the third try, while the job had long finished and the slot was free', async () => {
    const { api, secret } = await tenantWithSecret();
    // The first attempt is also slow: it holds a delivery slot for a second, never a job slot.
    const url = receiver.on('/job/flaky', (n) =>
      n < 2 ? { status: 500, delayMs: n === 0 ? 1_000 : 0 } : { status: 200 },
    );
    const job = await api.post<JobRecord>('/v1/jobs', completion('flaky receiver', { webhook: { url } }), {
      prefer: 'wait=10',
    });
    expect(job.body.status).toBe('succeeded');
    await until('the first attempt', () => receiver.arrived('/job/flaky') >= 1);
    // The lane has one slot; another job runs through it while the first delivery hangs.
    const other = await api.post<JobRecord>('/v1/jobs', completion('meanwhile'), { prefer: 'wait=10' });
    expect(other.body.status).toBe('succeeded');
    const got = await until('three attempts', () =>
      receiver.at('/job/flaky').length >= 3 ? receiver.at('/job/flaky') : undefined,
    );
    const [first, second, third] = got;
    if (!first || !second || !third) throw new Error('missing attempts');
    expect(got.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(Date.parse(other.body.finished_at ?? '')).toBeLessThan(first.answeredAt);
    expect(Date.parse(job.body.finished_at ?? '')).toBeLessThanOrEqual(first.at);
    // Exponential backoff (20% jitter): ≥ 0.8 × 200 ms, then ≥ 0.8 × 400 ms.
    expect(second.at - first.answeredAt).toBeGreaterThanOrEqual(0.8 * BACKOFF_MS - 20);
    expect(third.at - second.answeredAt).toBeGreaterThanOrEqual(0.8 * 2 * BACKOFF_MS - 20);
    expect(new Set(got.map((r) => header(r, 'switchyard-event-id'))).size).toBe(1);
    expect(verifySignature(secret, header(third, 'switchyard-signature'), third.body)).toBe(true);
    const failures = t.logs.filter((l) => l.includes('webhook attempt failed') && l.includes('"status":500'));
    expect(failures.length).toBeGreaterThanOrEqual(2);
    // The receiver has answered; the worker logs the delivery just after.
    await until('the delivery to be logged', () =>
      t.logs.some((l) => l.includes('webhook delivered') && l.includes('"attempt":3')),
    );
    await settle();
    expect(receiver.at('/job/flaky')).toHaveLength(3);
  });

  it('a receiver that always fails is given up after the configured attempts, logged and counted', async () => {
    const { api } = await tenantWithSecret();
    const url = receiver.on('/job/down', () => ({ status: 503 }));
    const job = await api.post<JobRecord>('/v1/jobs', completion('down', { webhook: { url } }), {
      prefer: 'wait=10',
    });
    await until(
      'the give-up',
      () => t.logs.some((l) => l.includes('webhook delivery given up') && l.includes(job.body.id)),
      20_000,
    );
    expect(receiver.at('/job/down')).toHaveLength(MAX_ATTEMPTS);
    const metrics = (await t.stack.worker?.registry.metrics()) ?? '';
    expect(metrics).toMatch(
      /switchyard_webhooks_given_up_total\{[^}]*reason="attempts_exhausted"[^}]*\} [1-9]/,
    );
  });
});

describe('logs', () => {
  it('no webhook secret and no event body ever reaches the logs', () => {
    expect(secrets.length).toBeGreaterThan(3);
    const logs = t.logs.join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('whsec_');
    expect(logs).not.toContain('"type":"job.finished","created_at"');
    expect(t.logs.some((l) => l.includes('webhook delivered') && l.includes('"eventId":"evt_'))).toBe(true);
  });
});
