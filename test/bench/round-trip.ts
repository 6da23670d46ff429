/**
 * Interactive overhead (issue #7, scenario 1): `POST /v1/chat/completions` (API → Redis → worker →
 * mock upstream → Redis → API), sequentially and from 16 concurrent clients, against a direct
 * undici call to the same mock upstream in the same run; p50/p99 and the latency Switchyard adds.
 * `POST /v1/jobs` with `Prefer: wait` is measured sequentially beside them.
 *
 *   node test/bench/round-trip.ts [--quick] [--json FILE] [--in-process-worker]
 *
 * Targets (sequential chat completions): added p50 ≤ 3 ms, added p99 ≤ 12 ms.
 * The API, the mock upstream (no latency) and the clients run in this process; the worker runs
 * in its own process (`--in-process-worker`: in this one, as `pnpm start` does).
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import type { WorkerProcess } from '../e2e/support/worker-process.ts';
import {
  completionRequest,
  MOCK_MODEL,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  stopProcess,
} from './harness.ts';
import { emit, machine, ms, times, type ScenarioReport } from './report.ts';
import { flag, option, summarize, timeIt, type LatencySummary } from './stats.ts';

const CONCURRENCY = 16;

/** `clients` loops call `fn` until `total` calls are done; returns each call's latency (ms). */
async function concurrently(clients: number, total: number, fn: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (started++ < total) samples.push(await timeIt(fn));
    }),
  );
  return samples;
}

export async function roundTrip(opts: { quick: boolean; inProcessWorker?: boolean }) {
  const n = opts.quick ? 30 : 1_000;
  const concurrentN = opts.quick ? 160 : 8_000;
  const warmup = opts.quick ? 10 : 200;
  const redis = await startRedis({ dedicated: true });
  const mock = await startMockLlm();
  const bench = await startBenchStack({ redis, mock, worker: opts.inProcessWorker === true });
  let worker: WorkerProcess | undefined;
  const agent = new Agent({ connections: 2 * CONCURRENCY });
  const admin = new Redis(redis.url);
  try {
    if (!opts.inProcessWorker) worker = await startBenchWorker(bench.config);
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${bench.key}` };
    const post = async (url: string, headers: Record<string, string>, body: string) => {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
      const json = (await res.body.json()) as { status?: string; choices?: unknown[] };
      if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
      return json;
    };
    const upstreamBody = JSON.stringify({ ...completionRequest('benchmark me', 'mock-small') });
    const chatBody = JSON.stringify(completionRequest('benchmark me', MOCK_MODEL));
    const jobBody = JSON.stringify({
      type: 'completion',
      lane: 'interactive',
      request: completionRequest('benchmark me', MOCK_MODEL),
    });
    const direct = async () => {
      await post(`${mock.url}/v1/chat/completions`, { 'content-type': 'application/json' }, upstreamBody);
    };
    const chat = async () => {
      const body = await post(`${bench.url}/v1/chat/completions`, auth, chatBody);
      if (!body.choices?.length) throw new Error('chat completion without choices');
    };
    const job = async () => {
      const body = await post(`${bench.url}/v1/jobs`, { ...auth, prefer: 'wait=30' }, jobBody);
      if (body.status !== 'succeeded') throw new Error(`job ${body.status}`);
    };

    for (let i = 0; i < warmup; i++) for (const fn of [direct, chat, job]) await fn();
    await concurrently(CONCURRENCY, warmup, chat);
    // Sequential, interleaved so drift (GC, CPU frequency, neighbours) hits every series alike.
    const seq = { direct: [] as number[], chat: [] as number[], job: [] as number[] };
    for (let i = 0; i < n; i++) {
      seq.direct.push(await timeIt(direct));
      seq.chat.push(await timeIt(chat));
      seq.job.push(await timeIt(job));
    }
    // 16 concurrent clients: direct and Switchyard phases alternate, 4 rounds each.
    const conc = { direct: [] as number[], chat: [] as number[], directSeconds: 0, chatSeconds: 0 };
    for (let round = 0; round < 4; round++) {
      let t0 = performance.now();
      conc.direct.push(...(await concurrently(CONCURRENCY, concurrentN / 4, direct)));
      conc.directSeconds += (performance.now() - t0) / 1000;
      t0 = performance.now();
      conc.chat.push(...(await concurrently(CONCURRENCY, concurrentN / 4, chat)));
      conc.chatSeconds += (performance.now() - t0) / 1000;
    }
    return report({
      quick: opts.quick,
      worker: opts.inProcessWorker ? 'in the same process' : 'in its own process',
      n,
      concurrentN,
      seqDirect: summarize(seq.direct),
      seqChat: summarize(seq.chat),
      seqJob: summarize(seq.job),
      concDirect: summarize(conc.direct),
      concChat: summarize(conc.chat),
      concDirectPerSecond: concurrentN / conc.directSeconds,
      concChatPerSecond: concurrentN / conc.chatSeconds,
      redis: await redisVersion(admin),
    });
  } finally {
    if (worker) await stopProcess(worker);
    admin.disconnect();
    await agent.close();
    await bench.close();
    await mock.close();
    await redis.stop();
  }
}

function report(r: {
  quick: boolean;
  worker: string;
  n: number;
  concurrentN: number;
  seqDirect: LatencySummary;
  seqChat: LatencySummary;
  seqJob: LatencySummary;
  concDirect: LatencySummary;
  concChat: LatencySummary;
  concDirectPerSecond: number;
  concChatPerSecond: number;
  redis: string;
}): ScenarioReport {
  const added = (s: LatencySummary, d: LatencySummary) => ({ p50: s.p50 - d.p50, p99: s.p99 - d.p99 });
  const seqAdded = added(r.seqChat, r.seqDirect);
  const row = (name: string, s: LatencySummary, d: LatencySummary) => [
    name,
    ms(d.p50),
    ms(s.p50),
    ms(s.p50 - d.p50),
    ms(d.p99),
    ms(s.p99),
    ms(s.p99 - d.p99),
    times(s.p50 / d.p50),
  ];
  return {
    id: 'interactive-overhead',
    title: 'Interactive overhead: round trip through Switchyard vs a direct call to the mock',
    command: 'node test/bench/round-trip.ts',
    setup:
      `Mock upstream with no latency; API in the bench process, worker ${r.worker}. Sequential: ${r.n} ` +
      `calls of each kind, interleaved. Concurrent: ${r.concurrentN} calls from ${CONCURRENCY} clients, ` +
      `direct and Switchyard phases alternating.`,
    columns: [
      'case',
      'direct p50',
      'Switchyard p50',
      'added p50',
      'direct p99',
      'Switchyard p99',
      'added p99',
      'p50 ratio',
    ],
    rows: [
      row('POST /v1/chat/completions, sequential', r.seqChat, r.seqDirect),
      row(`POST /v1/chat/completions, ${CONCURRENCY} concurrent`, r.concChat, r.concDirect),
      row('POST /v1/jobs + Prefer: wait, sequential', r.seqJob, r.seqDirect),
    ],
    targets: [
      {
        what: 'sequential chat, added p50',
        target: '≤ 3 ms',
        actual: ms(seqAdded.p50),
        met: seqAdded.p50 <= 3,
      },
      {
        what: 'sequential chat, added p99',
        target: '≤ 12 ms',
        actual: ms(seqAdded.p99),
        met: seqAdded.p99 <= 12,
      },
    ],
    notes: [
      `${CONCURRENCY} concurrent: ${Math.round(r.concChatPerSecond)} chat completions/s through Switchyard, ` +
        `${Math.round(r.concDirectPerSecond)}/s direct`,
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await roundTrip({ quick: flag('quick'), inProcessWorker: flag('in-process-worker') }), option('json'));
}
