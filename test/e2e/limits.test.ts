import type { JobRecord, Problem } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { TenantLoad } from '@switchyard/admission';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Api, completion } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startApiProcess, writeConfigFile, type ApiProcess } from './support/worker-process.ts';

const RATE = 5;
const BURST = 20;
const MAX_QUEUED = 4;
const MAX_IN_FLIGHT = 6;

let t: TestStack;
let processes: ApiProcess[];

beforeAll(async () => {
  t = await startTestStack({
    worker: false,
    config: {
      limits: {
        requestsPerSecond: RATE,
        burst: BURST,
        maxJobsQueued: MAX_QUEUED,
        maxJobsInFlight: MAX_IN_FLIGHT,
      },
    },
  });
  // Two API processes (real OS processes, own event loops and Redis clients), one Redis.
  const cfg = writeConfigFile({ ...t.config, api: { ...t.config.api, port: 0 } });
  processes = await Promise.all([startApiProcess(cfg), startApiProcess(cfg)]);
});
afterAll(async () => {
  for (const p of processes ?? []) p.terminate();
  await Promise.all((processes ?? []).map((p) => p.exited));
  await t?.close();
});

/** A fresh tenant, and a client for it on each API process. */
async function tenantOnBoth(): Promise<{ tenantId: string; apis: [Api, Api] }> {
  const { tenantId, key } = await t.tenant();
  const [a, b] = processes;
  return { tenantId, apis: [new Api(a?.url ?? '', key), new Api(b?.url ?? '', key)] };
}

/** Alternates between the two processes. */
const either = (apis: [Api, Api], i: number): Api => (i % 2 === 0 ? apis[0] : apis[1]);

function expect429(res: { status: number; body: unknown; headers: Record<string, unknown> }, code: string) {
  expect(res.status).toBe(429);
  expect((res.body as Problem).code).toBe(code);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

describe('per-tenant request rate', () => {
  it('holds across two API processes sharing one Redis, with 429 rate_limited and Retry-After', async () => {
    const { apis } = await tenantOnBoth();
    const started = Date.now();
    // In turn, alternating processes: each answers both sides of the limit, whatever the timing.
    const res = [];
    for (let i = 0; i < 60; i++) res.push(await either(apis, i).get<Problem>('/v1/usage'));
    const elapsedS = (Date.now() - started) / 1000;
    const ok = res.filter((r) => r.status === 200).length;
    const limited = res.filter((r) => r.status === 429);
    // One shared bucket: the burst plus what refilled meanwhile, whichever process answered.
    expect(ok).toBeGreaterThanOrEqual(BURST);
    expect(ok).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS) + 1);
    expect(limited.length).toBe(60 - ok);
    for (const r of limited) expect429(r, 'rate_limited');
    // Both processes took part on each side of the limit.
    expect(new Set(res.map((r, i) => `${i % 2}:${r.status}`)).size).toBe(4);
    // Another tenant has its own bucket.
    const other = await tenantOnBoth();
    expect((await other.apis[1].get('/v1/usage')).status).toBe(200);
    // The bucket refills.
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await apis[1].get('/v1/usage')).status).toBe(200);
  });
});

describe('per-tenant jobs queued', () => {
  it('admits exactly the limit across two API processes; the rest get 429 and nothing is stored', async () => {
    const { tenantId, apis } = await tenantOnBoth();
    const keyed = { 'idempotency-key': 'limits-keyed-1' };
    const first = await apis[0].post<JobRecord>('/v1/jobs', completion('keyed'), keyed);
    expect(first.status).toBe(202);
    const res = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        either(apis, i).post<JobRecord>('/v1/jobs', completion(`queued ${i}`)),
      ),
    );
    const accepted = [first, ...res.filter((r) => r.status === 202)];
    expect(accepted).toHaveLength(MAX_QUEUED);
    for (const r of res.filter((x) => x.status !== 202)) expect429(r, 'too_many_jobs_queued');
    // Every accepted job is there and queued; no refused one left a job behind.
    for (const r of accepted) {
      expect((await apis[0].get<JobRecord>(`/v1/jobs/${r.body.id}`)).body.status).toBe('queued');
    }
    const redis = new Redis(t.redis.url);
    try {
      const jobs = await redis.keys(`${t.config.redis.prefix}:{*}:j[ib]_*`);
      const mine = [];
      for (const k of jobs.filter((j) => /:j[ib]_[0-9a-fk]+$/.test(j))) {
        if ((await redis.hget(k, 'data'))?.includes(tenantId)) mine.push(k);
      }
      expect(mine).toHaveLength(MAX_QUEUED);
    } finally {
      redis.disconnect();
    }

    // A batch is checked before its body is read: refused whole, no batch created.
    const batch = await apis[1].post<Problem>('/v1/batches', [
      { custom_id: 'a', type: 'completion', request: completion().request },
    ]);
    expect429(batch, 'too_many_jobs_queued');

    // An Idempotency-Key replay of an accepted job is not a new job: answered, not refused.
    const replay = await apis[1].post<JobRecord>('/v1/jobs', completion('keyed'), keyed);
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // Another tenant is not held back by this one.
    const other = await tenantOnBoth();
    expect((await other.apis[0].post('/v1/jobs', completion('other'))).status).toBe(202);
  });
});

describe('per-tenant jobs in flight', () => {
  let mock: MockLlm;
  let workers: TestStack;
  beforeAll(async () => {
    mock = await startMockLlm({ latencyMs: 1_500 });
    // A worker in this process against the same Redis (same prefix), calling a slow upstream.
    workers = await startTestStack({ redis: t.redis, mock, api: false, config: { limits: t.config.limits } });
  });
  afterAll(async () => {
    await workers?.close();
    await mock?.close();
  });

  it('counts running jobs until they finish, then admits again', async () => {
    const { tenantId, apis } = await tenantOnBoth();
    // Watched in Redis: polling the API would spend the tenant's request rate.
    const redis = new Redis(t.redis.url);
    const load = new TenantLoad({ redis, prefix: t.config.redis.prefix, limits: t.config.limits });
    onTestFinished(() => redis.disconnect());
    const submit = (i: number) => either(apis, i).post<JobRecord>('/v1/jobs', completion(`run ${i}`));
    const ids: string[] = [];
    // Up to MAX_IN_FLIGHT jobs, a few at a time so the worker starts them (queued stays under 4).
    for (let i = 0; i < MAX_IN_FLIGHT; i += 2) {
      const pair = await Promise.all([submit(i), submit(i + 1)]);
      for (const r of pair) {
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      await until('the worker to start them', async () => {
        const c = await load.counts(tenantId);
        return (c.inFlight === ids.length && c.queued === 0) || undefined;
      });
    }
    // Nothing queued, six running: the in-flight limit answers, on either process.
    expect429(await submit(100), 'too_many_jobs_in_flight');
    expect429(await submit(101), 'too_many_jobs_in_flight');
    // When they finish, the tenant has room again.
    await until('the running jobs to finish', async () => (await load.counts(tenantId)).inFlight === 0);
    for (const id of ids) {
      expect((await apis[1].get<JobRecord>(`/v1/jobs/${id}`)).body.status).toBe('succeeded');
    }
    expect((await submit(102)).status).toBe(202);
  });
});
