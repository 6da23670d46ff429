import type { JobRecord } from '@switchyard/contracts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import {
  skewedClock,
  startWorkerProcess,
  writeConfigFile,
  type WorkerProcess,
} from './support/worker-process.ts';

/**
 * Workers whose clocks run 30 s ahead and 30 s behind (libfaketime), against the API in this
 * process, whose clock is the Redis server's (same host). What the fleet must agree on is read
 * against the real clock here: the upstream records when each call really arrived.
 */
interface Usage {
  total: { attempts: number; cost: { nano_usd: number } };
}

const RETRY_AFTER_S = 2;

let mock: MockLlm;
let upstream: Server;
let t: TestStack;
let api: Api;
let cfg: string;
const workers: WorkerProcess[] = [];
/** Real arrival times of upstream calls, by prompt. */
const arrivals = new Map<string, number[]>();

/**
 * The model's endpoint: records each call, answers 429 + Retry-After to the first call of a
 * prompt containing "429" and to every call of one containing "always", forwards the rest to
 * the mock LLM.
 */
async function startRecordingUpstream(target: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { messages } = JSON.parse(body.toString()) as { messages: { content: string }[] };
      const prompt = messages.at(-1)?.content ?? '';
      const seen = arrivals.get(prompt) ?? [];
      seen.push(Date.now());
      arrivals.set(prompt, seen);
      if (prompt.includes('always') || (prompt.includes('429') && seen.length === 1)) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_S) });
        res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }));
        return;
      }
      const headers = { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' };
      request(`${target}${req.url ?? ''}`, { method: 'POST', headers, body })
        .then(async (up) => {
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? '') });
          for await (const chunk of up.body) res.write(chunk);
          res.end();
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

beforeAll(async () => {
  mock = await startMockLlm({ latencyMs: 20 });
  upstream = await startRecordingUpstream(mock.url);
  const port = (upstream.address() as AddressInfo).port;
  t = await startTestStack({
    mock,
    worker: false,
    config: {
      jobs: { maxAttempts: 4, backoffMs: 50 },
      models: {
        mock: {
          baseUrl: `http://127.0.0.1:${port}/v1`,
          upstreamModel: 'mock-small',
          price: MOCK_PRICE,
          timeoutMs: 5_000,
        },
      },
      log: { level: 'warn' },
    },
  });
  api = (await t.tenant()).api;
  cfg = writeConfigFile(t.config);
});
// Each test has its own workers: none is left to take the next test's jobs.
afterEach(async () => {
  await Promise.all(workers.splice(0).map(stop));
});
afterAll(async () => {
  await t?.close();
  upstream?.close();
  await mock?.close();
});

async function worker(offset: string): Promise<WorkerProcess> {
  const w = await startWorkerProcess(cfg, [], skewedClock(offset));
  workers.push(w);
  return w;
}

async function stop(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.terminate('SIGTERM');
  await w.exited;
}

const submit = (content: string, extra: Record<string, unknown> = {}) =>
  api.post<JobRecord>('/v1/jobs', completion(content, extra)).then((r) => r.body);
const finish = (id: string) =>
  api.get<JobRecord>(`/v1/jobs/${id}`, { prefer: 'wait=30' }).then((r) => r.body);

/** Every attempt's start, as the ledger has it, lies in real time between submission and now. */
function expectAttemptsOnTheRealClock(jobs: JobRecord[]): void {
  const now = Date.now();
  for (const j of jobs) {
    for (const a of j.attempt_log ?? []) {
      const at = Date.parse(a.started_at);
      expect(at, `${j.id} attempt ${a.attempt}`).toBeGreaterThanOrEqual(Date.parse(j.created_at) - 1_000);
      expect(at, `${j.id} attempt ${a.attempt}`).toBeLessThanOrEqual(now + 1_000);
    }
  }
}

describe('workers with clocks 30 s ahead and 30 s behind the fleet', () => {
  it('a worker 30 s ahead runs jobs whose deadline is 15 s away, and stamps attempts on the fleet clock', async () => {
    await worker('+30s');
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => submit(`deadline ahead ${i}`, { timeout_ms: 15_000 })),
    );
    const done = await Promise.all(jobs.map((j) => finish(j.id)));
    expect(done.map((j) => j.status)).toEqual(done.map(() => 'succeeded'));
    expectAttemptsOnTheRealClock(done);
  });

  it('a worker 30 s behind starts no attempt past a job’s deadline', async () => {
    await worker('-30s');
    // Every call answers 429 with Retry-After 2 s; the deadline allows the first retry only.
    const job = await submit('always limited, behind', { timeout_ms: 3_000 });
    const done = await finish(job.id);
    expect(done.status).toBe('failed');
    const calls = arrivals.get('always limited, behind') ?? [];
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const at of calls) expect(at).toBeLessThan(Date.parse(done.deadline_at));
    expectAttemptsOnTheRealClock([done]);
  });

  it('with both running, no retry reaches the upstream before its Retry-After, and the day’s usage is whole', async () => {
    await worker('+30s');
    await worker('-30s');
    const prompts = Array.from({ length: 8 }, (_, i) => `429 then fine ${i}`);
    const jobs = await Promise.all(prompts.map((p) => submit(p)));
    const done = await Promise.all(jobs.map((j) => finish(j.id)));
    expect(done.map((j) => j.status)).toEqual(done.map(() => 'succeeded'));
    for (const p of prompts) {
      const [first, second] = arrivals.get(p) ?? [];
      expect(second, p).toBeDefined();
      // The retry waited the upstream's Retry-After, whichever worker ran either attempt.
      expect((second ?? 0) - (first ?? 0), p).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 100);
    }
    expectAttemptsOnTheRealClock(done);
    // The ledger's day is the fleet's: today's usage (the API's day) has every attempt so far.
    const usage = (await api.get<Usage>('/v1/usage')).body.total;
    const all = [...arrivals.values()].reduce((a, v) => a + v.length, 0);
    expect(usage.attempts).toBe(all);
  });

  it('a worker whose clock still says yesterday (just before midnight UTC) bills today’s daily budget', async () => {
    const sinceMidnightS = Math.floor((Date.now() % 86_400_000) / 1000);
    await worker(`-${sinceMidnightS + 30}s`);
    const { tenantId, api: own } = await t.tenant();
    const budget = await t.admin.send('PATCH', `/v1/admin/tenants/${tenantId}`, {
      daily_budget_usd: 0.000000001,
    });
    expect(budget.status).toBe(200);
    const first = await own.post<JobRecord>('/v1/jobs', completion('yesterday worker'), {
      prefer: 'wait=30',
    });
    expect(first.body.status).toBe('succeeded');
    expect(first.body.cost.nano_usd).toBeGreaterThan(1);
    // Its spend is today's: the budget of one nano-dollar is spent, so the next job is refused.
    const refused = await own.post<{ code: string }>('/v1/jobs', completion('over budget'));
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('budget_exceeded');
  });
});
