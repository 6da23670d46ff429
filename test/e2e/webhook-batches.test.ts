import { verifySignature, type JobRecord } from '@switchyard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import {
  eventOf,
  header,
  settle,
  WebhookReceiver,
  webhookTenant,
  type ReceivedWebhook,
} from './support/webhook-receiver.ts';

interface Batch {
  id: string;
  status: string;
  counts: Record<string, number>;
  webhook: { url: string } | null;
}

let t: TestStack;
let receiver: WebhookReceiver;
const secrets: string[] = [];
const tenantWithSecret = () => webhookTenant(t, secrets);

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  t = await startTestStack({ config: { webhooks: { backoffMs: 200, timeoutMs: 3_000 } } });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

describe('batch.completed', () => {
  it('a batch with a webhook gets one batch.completed event; its lines’ own webhooks fire per job', async () => {
    const { api, secret } = await tenantWithSecret();
    const batchUrl = receiver.on('/batch/done', () => ({ status: 200 }));
    const lineUrl = receiver.on('/batch/line', () => ({ status: 200 }));
    const ask = (content: string) => ({ model: MOCK_MODEL, messages: [{ role: 'user', content }] });
    const lines = [
      { custom_id: 'a', type: 'completion', request: ask('one') },
      { custom_id: 'b', type: 'completion', request: ask('two'), webhook: { url: lineUrl } },
      { custom_id: 'c', type: 'completion', request: ask('three') },
    ];
    const res = await api.post<Batch>(`/v1/batches?webhook_url=${encodeURIComponent(batchUrl)}`, lines);
    expect(res.status).toBe(202);
    expect(res.body.webhook).toEqual({ url: batchUrl });
    const [got] = await until('the batch event', () =>
      receiver.at('/batch/done').length ? receiver.at('/batch/done') : undefined,
    );
    if (!got) throw new Error('no event');
    expect(verifySignature(secret, header(got, 'switchyard-signature'), got.body)).toBe(true);
    const event = eventOf<Batch>(got);
    expect(event).toMatchObject({ type: 'batch.completed', data: { id: res.body.id, status: 'completed' } });
    expect(event.data.counts).toMatchObject({ accepted: 3, succeeded: 3, queued_or_running: 0 });
    await until('the line event', () => receiver.at('/batch/line').length === 1);
    const lineEvent = eventOf<JobRecord>(receiver.at('/batch/line')[0] as ReceivedWebhook);
    expect(lineEvent.data).toMatchObject({ status: 'succeeded', lane: 'batch', webhook: { url: lineUrl } });
    await settle();
    expect(receiver.at('/batch/done')).toHaveLength(1);
    expect(receiver.at('/batch/line')).toHaveLength(1);
  });

  it('a batch with nothing to run is completed at once and still announced (by the API)', async () => {
    const { api } = await tenantWithSecret();
    const url = receiver.on('/batch/empty', () => ({ status: 200 }));
    const bad = { custom_id: 'x', type: 'completion', request: { model: 'no-such-model', messages: [] } };
    const res = await api.post<Batch>(`/v1/batches?webhook_url=${encodeURIComponent(url)}`, [bad]);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    await until('the batch event', () => receiver.at('/batch/empty').length === 1);
    expect(eventOf<Batch>(receiver.at('/batch/empty')[0] as ReceivedWebhook).data.counts).toMatchObject({
      rejected: 1,
      accepted: 0,
    });
  });
});

describe('batch.completed for a batch created from a file (OpenAI form)', () => {
  it('is announced once, with the batch as GET answers it: OpenAI fields, unix created_at', async () => {
    const { api } = await tenantWithSecret();
    const url = receiver.on('/file-batch/done', () => ({ status: 200 }));
    const line = {
      custom_id: 'f1',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: MOCK_MODEL, messages: [{ role: 'user', content: 'from a file' }] },
    };
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([`${JSON.stringify(line)}\n`]), 'in.jsonl');
    const headers = { authorization: `Bearer ${api.key ?? ''}` };
    const upload = await fetch(`${t.url}/v1/files`, { method: 'POST', headers, body: form });
    const file = (await upload.json()) as { id: string };
    const body = {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { source: 'webhook-test' },
    };
    const res = await api.post<Batch>(`/v1/batches?webhook_url=${encodeURIComponent(url)}`, body);
    expect(res.status).toBe(200);
    const [got] = await until('the batch event', () =>
      receiver.at('/file-batch/done').length ? receiver.at('/file-batch/done') : undefined,
    );
    if (!got) throw new Error('no event');
    const event = eventOf<Batch & { created_at: unknown; input_file_id: string }>(got);
    expect(event.data).toMatchObject({
      id: res.body.id,
      status: 'completed',
      input_file_id: file.id,
      metadata: { source: 'webhook-test' },
      request_counts: { total: 1, completed: 1, failed: 0 },
      output_file_id: `file-${res.body.id}-output`,
    });
    expect(typeof event.data.created_at).toBe('number');
    await settle();
    expect(receiver.at('/file-batch/done')).toHaveLength(1);
  });
});

describe('logs', () => {
  it('no webhook secret ever reaches the logs', () => {
    expect(secrets.length).toBeGreaterThan(1);
    const logs = t.logs.join('');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('"type":"batch.completed","created_at"');
  });
});
