import type { JobRecord, Problem } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

// Redis full: `maxmemory` with `noeviction`, as production runs it (infra/README.md). Nothing is
// evicted, so a write that would pass the limit is refused: submissions answer 503 storage_full
// with Retry-After, jobs accepted earlier are kept and finish, and the API takes work again on its
// own once memory frees.

const ACCEPTED = 12;
const FULL_FOR_MS = 3_000;

let redis: RedisHandle;
let admin: Redis;
let mock: MockLlm;
let t: TestStack;
let api: Api;

beforeAll(async () => {
  redis = await startRedis({ dedicated: true });
  admin = new Redis(redis.url);
  mock = await startMockLlm({ latencyMs: 200 });
  t = await startTestStack({
    redis,
    mock,
    config: { worker: { concurrency: { interactive: 2, batch: 2 } }, log: { level: 'warn' } },
  });
  api = (await t.tenant()).api;
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
}, 60_000);
afterAll(async () => {
  admin?.disconnect();
  await t?.close();
  await mock?.close();
  await redis?.stop();
});

/**
 * Writes keys until Redis refuses even a small one for memory (64 KiB values, then smaller ones
 * to fill what is left: a refused command's own arguments count until it is refused); returns the
 * keys written.
 */
async function fillRedis(keys: string[] = []): Promise<string[]> {
  for (const size of [64 * 1024, 4096, 256, 16]) {
    for (;;) {
      const key = `filler:${keys.length}`;
      try {
        await admin.set(key, 'x'.repeat(size));
        keys.push(key);
      } catch (err) {
        expect((err as Error).message).toMatch(/^OOM /);
        break;
      }
    }
  }
  return keys;
}

describe('when Redis is out of memory (noeviction)', () => {
  it('submissions get 503 storage_full with Retry-After; accepted jobs stay and finish; it recovers by itself', async () => {
    const accepted = await Promise.all(
      Array.from({ length: ACCEPTED }, (_, i) =>
        api.post<JobRecord>('/v1/jobs', completion(`accepted before the memory ran out ${i}`)),
      ),
    );
    expect(accepted.map((r) => r.status)).toEqual(accepted.map(() => 202));

    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(used + 4 * 1024 * 1024));
    const fillers = await fillRedis();
    const refused = await Promise.all([
      api.post<Problem>('/v1/jobs', completion('while full')),
      api.post<Problem>('/v1/jobs', completion('while full, keyed'), { 'idempotency-key': 'full-1' }),
      api.post<Problem>('/v1/batches', [
        { custom_id: 'a', type: 'completion', request: completion('x').request },
      ]),
    ]);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body.code).toBe('storage_full');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Reading still works: the accepted jobs are all there.
    for (const r of accepted) expect((await api.get<JobRecord>(`/v1/jobs/${r.body.id}`)).status).toBe(200);

    // Full for a while: workers meet the refusals too (finishing a job writes its result). What
    // they free meanwhile (deletes are allowed) is filled again.
    await new Promise((r) => setTimeout(r, FULL_FOR_MS));
    await fillRedis(fillers);
    expect((await api.post<Problem>('/v1/jobs', completion('still full'))).body.code).toBe('storage_full');

    // Memory frees (an operator raises the limit, or results expire): no restart of anything.
    await admin.del(...fillers);
    const after = await until('a submission accepted again', async () => {
      const r = await api.post<JobRecord>('/v1/jobs', completion('after'), { 'idempotency-key': 'full-1' });
      return r.status === 202 ? r : undefined;
    });

    const ids = [...accepted.map((r) => r.body.id), after.body.id];
    const done = await Promise.all(
      ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body),
    );
    expect(done.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    // Each job's upstream calls are its attempts, and each attempt is in its log once. A first
    // attempt's ledger write goes ahead of the job's completion unawaited (ADR 0024), and one
    // Redis refused for memory is retried until memory frees: the log catches up with the job.
    const logged = await until(
      'every attempt in the ledger',
      async () => {
        const jobs = await Promise.all(
          ids.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`)).body),
        );
        return jobs.every((j) => j.attempt_log?.length === j.attempts) ? jobs : undefined;
      },
      60_000,
      500,
    );
    expect(mock.stats().calls).toBe(logged.reduce((n, j) => n + j.attempts, 0));
  }, 120_000);
});
