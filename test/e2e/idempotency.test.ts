import type { JobRecord, Problem } from '@switchyard/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let t: TestStack;
let api: Api;

beforeAll(async () => {
  t = await startTestStack();
  api = (await t.tenant()).api;
});
afterAll(async () => t?.close());

describe('Idempotency-Key', () => {
  it('200 concurrent submissions with one key make exactly one job and one upstream call', async () => {
    t.mock.resetStats();
    const body = completion('exactly once please');
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        api.post<JobRecord>('/v1/jobs', body, { 'idempotency-key': 'order-42' }),
      ),
    );
    expect(results.every((r) => r.status === 202 || r.status === 200)).toBe(true);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    const replays = results.filter((r) => r.headers['idempotent-replayed'] === 'true');
    expect(replays).toHaveLength(199);
    const [id] = [...ids];
    const done = await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=10' });
    expect(done.body.status).toBe('succeeded');
    expect(t.mock.stats().calls).toBe(1);
    // Exactly one BullMQ job exists in Redis for this tenant's key.
    const redis = new Redis(t.redis.url);
    try {
      const counts = await Promise.all(
        ['interactive', 'batch'].map(
          async (lane) => (await redis.keys(`${t.config.redis.prefix}:{${lane}}:j*`)).length,
        ),
      );
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('a late duplicate returns the finished job without re-running it', async () => {
    const body = completion('run me once');
    const first = await api.post<JobRecord>('/v1/jobs', body, {
      'idempotency-key': 'late-dup',
      prefer: 'wait=10',
    });
    expect(first.body.status).toBe('succeeded');
    const calls = t.mock.stats().calls;
    const again = await api.post<JobRecord>('/v1/jobs', body, { 'idempotency-key': 'late-dup' });
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(t.mock.stats().calls).toBe(calls);
  });

  it('reusing a key with another body is 422 and leaves the first job untouched', async () => {
    const first = await api.post<JobRecord>('/v1/jobs', completion('body A'), {
      'idempotency-key': 'reuse',
      prefer: 'wait=10',
    });
    const reuse = await api.post<Problem>('/v1/jobs', completion('body B'), { 'idempotency-key': 'reuse' });
    expect(reuse.status).toBe(422);
    expect(reuse.body.code).toBe('idempotency_key_reused');
    const still = await api.get<JobRecord>(`/v1/jobs/${first.body.id}`);
    expect(still.body).toEqual({ ...first.body, attempt_log: still.body.attempt_log });
    expect(still.body.attempt_log).toHaveLength(1);
  });

  it('the same key from two tenants names two different jobs', async () => {
    const other = (await t.tenant()).api;
    const a = await api.post<JobRecord>('/v1/jobs', completion('shared key'), { 'idempotency-key': 'same' });
    const b = await other.post<JobRecord>('/v1/jobs', completion('shared key'), {
      'idempotency-key': 'same',
    });
    expect(a.body.id).not.toBe(b.body.id);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
  });

  it('key order and defaults do not change the fingerprint; values do', async () => {
    const a = {
      type: 'completion',
      lane: 'interactive',
      request: { messages: [{ content: 'k', role: 'user' }], model: 'mock' },
    };
    const b = {
      request: { model: 'mock', messages: [{ role: 'user', content: 'k' }] },
      priority: 5,
      lane: 'interactive',
      type: 'completion',
    };
    const first = await api.post<JobRecord>('/v1/jobs', a, { 'idempotency-key': 'canon' });
    const second = await api.post<JobRecord>('/v1/jobs', b, { 'idempotency-key': 'canon' });
    expect(second.body.id).toBe(first.body.id);
    const third = await api.post('/v1/jobs', { ...b, priority: 4 }, { 'idempotency-key': 'canon' });
    expect(third.status).toBe(422);
  });
});
