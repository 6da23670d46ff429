import { ERROR_CODES, type JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

interface Usage {
  total: { attempts: number; input_tokens: number; output_tokens: number; cost: { nano_usd: number } };
}

const JOBS = 600;
const ROUNDS = 4;

let redis: RedisHandle;
let mock: MockLlm;
let t: TestStack;
let api: Api;
const everyWorker: WorkerProcess[] = [];

beforeAll(async () => {
  // appendfsync always: the Redis restart below is about the fleet reconnecting, not about what
  // a crash of Redis itself can lose (docs/security.md states that limit).
  redis = await startRedis({ dedicated: true, persist: true });
  mock = await startMockLlm({ latencyMs: { min: 100, max: 400 }, answerWords: 12 });
  t = await startTestStack({
    redis,
    mock,
    worker: false,
    config: {
      worker: { lockDurationMs: 2_000, concurrency: { interactive: 2, batch: 16 } },
      jobs: { maxAttempts: 8, backoffMs: 20, retryBudget: { ratio: 4, floor: 400 } },
      models: {
        mock: { baseUrl: `${mock.url}/v1`, upstreamModel: 'mock-small', price: MOCK_PRICE, timeoutMs: 5_000 },
      },
      log: { level: 'warn' },
    },
  });
  api = (await t.tenant()).api;
});
afterAll(async () => {
  for (const w of everyWorker) w.terminate('SIGKILL');
  await t?.close();
  await mock?.close();
  await redis?.stop();
});

/** Every prompt has the same number of words, so every complete answer bills the same tokens. */
const prompt = (i: number) => `concurrent crash job ${String(i).padStart(4, '0')} asks`;

describe('concurrent crashes: 2 of 3 workers SIGKILLed at once, repeatedly, and a Redis restart, under upstream chaos', () => {
  it('no job is lost and the ledger matches what the upstream billed', async () => {
    const cfg = writeConfigFile(t.config);
    const fleet = await Promise.all([0, 1, 2].map(() => startWorkerProcess(cfg)));
    everyWorker.push(...fleet);
    mock.resetStats();
    mock.setFaults({ error5xx: 0.15, rateLimit: 0.05, streamCut: 0.05, retryAfterSeconds: 1, seed: 7 });
    const ids: string[] = [];
    // One wave of jobs per round, so every round kills workers with work in hand: with all the
    // jobs up front, a slow round could find them nearly done and wait in vain for more calls.
    const submitWave = async (round: number) => {
      const wave = JOBS / ROUNDS;
      const res = await Promise.all(
        Array.from({ length: wave }, async (_, j) => {
          const i = round * wave + j;
          const body = completion(prompt(i), { lane: 'batch', timeout_ms: 600_000 });
          // Right after the Redis restart a submission may meet 503 (Retry-After); a client
          // retries it with the same Idempotency-Key, which names the same job.
          for (;;) {
            const r = await api.post<JobRecord>('/v1/jobs', body, { 'idempotency-key': `job-${i}` });
            if (r.status !== 503) return r;
            await new Promise((done) => setTimeout(done, 100));
          }
        }),
      );
      // 202 accepted, or 200 for a retry whose first try was stored after all.
      expect(res.filter((r) => r.status !== 202 && r.status !== 200)).toEqual([]);
      ids.push(...res.map((r) => r.body.id));
    };

    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const before = mock.stats().calls;
      await submitWave(round);
      await until('the fleet to be calling upstream', () => mock.stats().calls > before + 40, 60_000);
      // Two of the three, the same instant; the third carries on.
      const victims = [fleet[round % 3], fleet[(round + 1) % 3]] as WorkerProcess[];
      for (const v of victims) v.terminate('SIGKILL');
      await Promise.all(victims.map((v) => v.exited));
      kills += victims.length;
      if (round === 1) {
        // Redis goes down and comes back (its AOF intact) while the survivor is mid-work.
        await redis.kill();
        await new Promise((r) => setTimeout(r, 500));
        await redis.restart();
      }
      for (const v of victims) {
        const fresh = await startWorkerProcess(cfg);
        everyWorker.push(fresh);
        fleet[fleet.indexOf(v)] = fresh;
      }
    }
    expect(kills).toBe(ROUNDS * 2);

    const jobs: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const part = ids.slice(i, i + 100);
      const got = await Promise.all(
        part.map(async (id) => {
          for (;;) {
            const r = await api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=60' });
            if (r.status === 200 && (r.body.status === 'succeeded' || r.body.status === 'failed'))
              return r.body;
            if (r.status !== 200 && r.status !== 503) throw new Error(`${id}: ${r.status}`);
          }
        }),
      );
      jobs.push(...got);
    }
    // Nothing lost: every accepted job ended, and a failed one says why with a catalog code.
    expect(jobs).toHaveLength(JOBS);
    for (const j of jobs.filter((x) => x.status === 'failed')) expect(ERROR_CODES).toContain(j.error?.code);
    expect(jobs.filter((j) => j.status === 'succeeded').length).toBeGreaterThan(JOBS * 0.9);
    const interrupted = jobs.flatMap((j) => (j.attempt_log ?? []).filter((a) => a.interrupted));
    expect(interrupted.length).toBeGreaterThan(0);
    for (const j of jobs) expect(j.attempt_log?.map((a) => a.attempt)).toEqual(range(j.attempts));

    // The ledger against the upstream's own bill. Every upstream call is an attempt in the ledger;
    // the ledger may have more (a worker killed before its call left) but never more than the
    // interrupted ones. Tokens: every complete answer the upstream billed is in the ledger with
    // its exact tokens, except answers whose worker was killed between their last byte and the
    // ledger write (recorded as interrupted, tokens unknown): at most one per interrupted attempt.
    const stats = mock.stats();
    const usage = (await api.get<Usage>('/v1/usage?group_by=outcome')).body.total;
    expect(usage.attempts).toBe(jobs.reduce((a, j) => a + j.attempts, 0));
    expect(usage.attempts).toBeGreaterThanOrEqual(stats.calls);
    expect(usage.attempts).toBeLessThanOrEqual(stats.calls + interrupted.length);
    const perCall = {
      in: stats.promptTokens / stats.billedCalls,
      out: stats.completionTokens / stats.billedCalls,
    };
    expect(Number.isInteger(perCall.in) && Number.isInteger(perCall.out)).toBe(true);
    const ledgerBilled = usage.input_tokens / perCall.in;
    expect(usage.output_tokens).toBe(ledgerBilled * perCall.out);
    expect(ledgerBilled).toBeLessThanOrEqual(stats.billedCalls);
    expect(stats.billedCalls - ledgerBilled).toBeLessThanOrEqual(interrupted.length);
    const nanos = (calls: number) =>
      Math.round(
        calls * (perCall.in * MOCK_PRICE.inputPerMTok + perCall.out * MOCK_PRICE.outputPerMTok) * 1000,
      );
    expect(usage.cost.nano_usd).toBe(nanos(ledgerBilled));
    console.log(
      `concurrent crashes: ${stats.calls} upstream calls, ${stats.billedCalls} billed, ledger ${usage.attempts} attempts` +
        ` (${ledgerBilled} billed), ${interrupted.length} interrupted, ${kills} kills`,
    );
    // Longer than the waits inside it (60 s each), so a stuck fleet fails with their message.
  }, 180_000);
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
