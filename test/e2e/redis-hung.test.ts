import type { JobRecord, Problem } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api, type ApiResponse } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

/** What a user would accept from an API whose store froze: an answer, fast. */
const ANSWER_WITHIN_MS = 3_000;
const PAUSE_MS = 8_000;

let redis: RedisHandle;
let t: TestStack;
let api: Api;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  // appendfsync always: this test is about a frozen Redis, not about what a crash can lose.
  redis = await startRedis({ dedicated: true, persist: true });
  t = await startTestStack({
    redis,
    worker: false,
    config: { worker: { concurrency: { interactive: 4, batch: 8 } }, log: { level: 'warn' } },
  });
  api = (await t.tenant()).api;
  worker = await startWorkerProcess(writeConfigFile(t.config));
});
afterAll(async () => {
  worker?.terminate('SIGKILL');
  await redis?.resume().catch(() => undefined);
  await t?.close();
  await redis?.stop();
});

interface Sent {
  route: string;
  startedAt: number;
  ms: number;
  res: ApiResponse<Partial<Problem> & Partial<Omit<JobRecord, 'status'>>>;
}

/** Sends `send` and times it; a request that does not answer in 10 s counts as hung. */
async function timed(route: string, send: () => Promise<ApiResponse<unknown>>): Promise<Sent> {
  const startedAt = Date.now();
  const hung = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${route} hung`)), 10_000).unref(),
  );
  const res = (await Promise.race([send(), hung])) as Sent['res'];
  return { route, startedAt, ms: Date.now() - startedAt, res };
}

describe('when Redis hangs (SIGSTOP) under submit load', () => {
  it('every request answers within 3 s (503 + Retry-After while frozen); after SIGCONT no accepted job is lost and the worker resumes', async () => {
    const sent: Sent[] = [];
    let stop = false;
    const known: string[] = [];
    // Four clients submitting without pause, a fifth reading jobs back and a sixth polling usage.
    // A 503 sent because a command timed out cannot tell whether Redis, once thawed, still ran
    // what was already on the wire: clients retry with the same Idempotency-Key (docs/security.md).
    const submitter = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const headers = { 'idempotency-key': `hung-${c}-${i}` };
        for (;;) {
          const s = await timed('POST /v1/jobs', () =>
            api.post('/v1/jobs', completion(`hung ${c}.${i}`), headers),
          );
          sent.push(s);
          if (s.res.status === 202 || s.res.status === 200) known.push(String(s.res.body.id));
          if (s.res.status !== 503) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const reader = async () => {
      while (!stop) {
        const id = known.at(-1) ?? 'j_missing';
        sent.push(await timed('GET /v1/jobs/{id}', () => api.get(`/v1/jobs/${id}`)));
        sent.push(await timed('GET /v1/usage', () => api.get('/v1/usage')));
        sent.push(await timed('GET /readyz', () => api.get('/readyz')));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(submitter).concat(reader()));

    await until('jobs to be flowing', () => known.length > 40, 30_000);
    const pausedAt = Date.now();
    await redis.pause();
    // Requests already waiting for a job when Redis froze get their answer within their wait too.
    const waiting = timed('GET /v1/jobs/{id} wait=2', () =>
      api.get(`/v1/jobs/${known.at(-1) ?? ''}`, { prefer: 'wait=2' }),
    );
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    await redis.resume();
    const resumedAt = Date.now();
    const acceptedBefore = known.length;
    await until('submissions to be accepted again', () => known.length > acceptedBefore + 40, 30_000);
    stop = true;
    await load;
    const longPoll = await waiting;
    expect(longPoll.ms).toBeLessThan(2_000 + ANSWER_WITHIN_MS);

    // No request hung, and every one answered within 3 s, during the freeze and around it.
    const slow = sent
      .filter((s) => s.ms >= ANSWER_WITHIN_MS)
      .map((s) => `${s.route} ${s.res.status} ${s.ms} ms`);
    expect(slow).toEqual([]);
    // While frozen, the answers were 503 problem+json with Retry-After (sent from the freeze
    // plus the client command timeout, until the thaw).
    const frozen = sent.filter((s) => s.startedAt > pausedAt + 2_500 && s.startedAt + s.ms < resumedAt);
    expect(frozen.length).toBeGreaterThan(10);
    for (const s of frozen.filter((x) => x.route !== 'GET /readyz')) {
      expect(s.res.status, s.route).toBe(503);
      expect(s.res.body.code, s.route).toBe('redis_unavailable');
      expect(s.res.headers['retry-after'], s.route).toBeDefined();
    }
    expect(frozen.filter((s) => s.route === 'GET /readyz').every((s) => s.res.status === 503)).toBe(true);
    const codes = new Set(sent.map((s) => s.res.status));
    expect(
      [...codes].every((c) => [200, 202, 404, 503].includes(c)),
      [...codes].join(),
    ).toBe(true);

    // Every job the API accepted, before, around and after the freeze, finishes: none lost, and
    // the worker that lived through the freeze ran them without a restart.
    const jobs = await Promise.all(
      known.map(async (id) => (await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' })).body),
    );
    expect(jobs.filter((j) => j.status !== 'succeeded').map((j) => `${j.id} ${j.status}`)).toEqual([]);
    expect(worker?.child.exitCode).toBeNull();
    // Each submission ran once: one job per Idempotency-Key, one upstream call per job (no
    // faults here), none for a submission that was answered 503 and retried.
    expect(new Set(known).size).toBe(known.length);
    expect(t.mock.stats().calls).toBe(known.length);
  });
});
