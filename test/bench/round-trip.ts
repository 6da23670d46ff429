/**
 * Interactive overhead (issues #7 and #21): `POST /v1/chat/completions` (API → Redis → worker →
 * mock upstream → Redis → API), sequentially and from 16 concurrent clients, against a direct
 * undici call to the same mock upstream and the same call through Portkey's gateway (what users
 * would pick instead, portkey.ts), all in the same run; p50/p99 and the latency each adds.
 * `POST /v1/jobs` with `Prefer: wait` is measured sequentially beside them.
 *
 *   node test/bench/round-trip.ts [--quick] [--json FILE] [--in-process-worker]
 *
 * Targets (sequential chat completions): added p50 ≤ 3 ms and ≤ 1.5× Portkey's added p50; added
 * p99 ≤ 12 ms and ≤ 2× Portkey's added p99.
 * The API, the mock upstream (no latency) and the clients run in this process; the worker runs
 * in its own process (`--in-process-worker`: in this one, as `pnpm start` does), and so does Portkey.
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
import { startPortkey, type Portkey } from './portkey.ts';
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
  let portkey: Portkey | undefined;
  const agent = new Agent({ connections: 2 * CONCURRENCY });
  const admin = new Redis(redis.url);
  try {
    if (!opts.inProcessWorker) worker = await startBenchWorker(bench.config);
    portkey = await startPortkey();
    const viaPortkey = portkey.headers(`${mock.url}/v1`);
    const portkeyUrl = `${portkey.url}/v1/chat/completions`;
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${bench.key}` };
    /** Sequential chat calls: the job id and the client's send and receive times (Date.now ms). */
    const traced: { id: string; sent: number; received: number }[] = [];
    let tracing = false;
    const post = async (url: string, headers: Record<string, string>, body: string) => {
      const sent = Date.now();
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
      const json = (await res.body.json()) as { status?: string; choices?: unknown[] };
      if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
      const id = res.headers['x-switchyard-job-id'];
      if (tracing && typeof id === 'string') traced.push({ id, sent, received: Date.now() });
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
    const gateway = async () => {
      const body = await post(portkeyUrl, viaPortkey, upstreamBody);
      if (!body.choices?.length) throw new Error('Portkey answered without choices');
    };
    const chat = async () => {
      const body = await post(`${bench.url}/v1/chat/completions`, auth, chatBody);
      if (!body.choices?.length) throw new Error('chat completion without choices');
    };
    const job = async () => {
      const body = await post(`${bench.url}/v1/jobs`, { ...auth, prefer: 'wait=30' }, jobBody);
      if (body.status !== 'succeeded') throw new Error(`job ${body.status}`);
    };

    for (let i = 0; i < warmup; i++) for (const fn of [direct, gateway, chat, job]) await fn();
    await concurrently(CONCURRENCY, warmup, chat);
    await concurrently(CONCURRENCY, warmup, gateway);
    // Sequential, interleaved so drift (GC, CPU frequency, neighbours) hits every series alike.
    const seq = {
      direct: [] as number[],
      portkey: [] as number[],
      chat: [] as number[],
      job: [] as number[],
    };
    for (let i = 0; i < n; i++) {
      seq.direct.push(await timeIt(direct));
      seq.portkey.push(await timeIt(gateway));
      tracing = true;
      seq.chat.push(await timeIt(chat));
      tracing = false;
      seq.job.push(await timeIt(job));
    }
    const hops = await hopBreakdown(admin, bench.config.redis.prefix, traced, summarize(seq.direct).mean);
    // 16 concurrent clients: direct, Portkey and Switchyard phases alternate, 4 rounds each.
    const phases = { direct, portkey: gateway, chat };
    const conc = {
      direct: [] as number[],
      portkey: [] as number[],
      chat: [] as number[],
      seconds: { direct: 0, portkey: 0, chat: 0 },
    };
    for (let round = 0; round < 4; round++) {
      for (const name of ['direct', 'portkey', 'chat'] as const) {
        const t0 = performance.now();
        conc[name].push(...(await concurrently(CONCURRENCY, concurrentN / 4, phases[name])));
        conc.seconds[name] += (performance.now() - t0) / 1000;
      }
    }
    return [
      report({
        quick: opts.quick,
        worker: opts.inProcessWorker ? 'in the same process' : 'in its own process',
        n,
        concurrentN,
        portkeyVersion: portkey.version,
        seqDirect: summarize(seq.direct),
        seqPortkey: summarize(seq.portkey),
        seqChat: summarize(seq.chat),
        seqJob: summarize(seq.job),
        concDirect: summarize(conc.direct),
        concPortkey: summarize(conc.portkey),
        concChat: summarize(conc.chat),
        concDirectPerSecond: concurrentN / conc.seconds.direct,
        concPortkeyPerSecond: concurrentN / conc.seconds.portkey,
        concChatPerSecond: concurrentN / conc.seconds.chat,
        redis: await redisVersion(admin),
      }),
      hopReport(hops, opts.quick, await redisVersion(admin)),
    ];
  } finally {
    if (worker) await stopProcess(worker);
    if (portkey) await stopProcess(portkey);
    admin.disconnect();
    await agent.close();
    await bench.close();
    await mock.close();
    await redis.stop();
  }
}

/** The hops of a sequential chat completion, in ms (means over the traced calls). */
interface Hops {
  n: number;
  /** Client send → the job stored (its BullMQ timestamp): HTTP, auth, admission, the add. */
  submit: number;
  /** Stored → a worker took it (processedOn): the pickup. */
  pickup: number;
  /** Taken → finished (finishedOn), less a direct call to the mock: the worker's own work. */
  worker: number;
  /** The direct call's mean, for reference (part of the taken → finished time). */
  upstream: number;
  /** Finished → the client has the answer: the completion event, the API's read, the response. */
  respond: number;
  total: number;
}

/**
 * Where a sequential chat completion's time goes, from the job's own timestamps (ms, one machine's
 * clock: the API's `timestamp`, the worker's `processedOn` and `finishedOn`) and the client's send
 * and receive times; means over many calls, so the millisecond truncation averages out.
 */
async function hopBreakdown(
  admin: Redis,
  prefix: string,
  traced: { id: string; sent: number; received: number }[],
  directMean: number,
): Promise<Hops> {
  const p = admin.pipeline();
  for (const t of traced)
    p.hmget(`${prefix}:{interactive}:${t.id}`, 'timestamp', 'processedOn', 'finishedOn');
  const rows = ((await p.exec()) ?? []).map(([, r]) => (r as string[]).map(Number));
  const sums = { submit: 0, pickup: 0, taken: 0, respond: 0, total: 0 };
  let n = 0;
  traced.forEach((t, i) => {
    const [added, taken, finished] = rows[i] ?? [];
    if (!added || !taken || !finished) return;
    n++;
    sums.submit += added - t.sent;
    sums.pickup += taken - added;
    sums.taken += finished - taken;
    sums.respond += t.received - finished;
    sums.total += t.received - t.sent;
  });
  const mean = (x: number) => x / Math.max(n, 1);
  return {
    n,
    submit: mean(sums.submit),
    pickup: mean(sums.pickup),
    worker: mean(sums.taken) - directMean,
    upstream: directMean,
    respond: mean(sums.respond),
    total: mean(sums.total),
  };
}

function hopReport(h: Hops, quick: boolean, redis: string): ScenarioReport {
  const added = h.total - h.upstream;
  const row = (name: string, v: number) => [name, ms(v), `${Math.round((100 * v) / Math.max(added, 1e-9))}%`];
  return {
    id: 'interactive-hops',
    title: 'Interactive hops: where a sequential chat completion spends the time Switchyard adds',
    command: 'node test/bench/round-trip.ts',
    setup:
      `Means over the ${h.n} sequential POST /v1/chat/completions calls of the overhead run, from each job's ` +
      'BullMQ timestamps (added, processedOn, finishedOn: ms, one clock) and the client’s send and receive ' +
      'times. The worker hop is taken → finished less the mean direct call to the mock.',
    columns: ['hop', 'mean', 'share of the added time'],
    rows: [
      row('submit: client → job stored (HTTP, auth, rate limit, budget, admission, add)', h.submit),
      row('pickup: stored → a worker took it', h.pickup),
      row('worker: taken → finished, less the upstream call', h.worker),
      row('respond: finished → client has the answer (event, read, response)', h.respond),
      ['added in all (total less the direct call)', ms(added), '100%'],
    ],
    targets: [],
    quick,
    machine: machine(redis),
    raw: h,
  };
}

function report(r: {
  quick: boolean;
  worker: string;
  n: number;
  concurrentN: number;
  portkeyVersion: string;
  seqDirect: LatencySummary;
  seqPortkey: LatencySummary;
  seqChat: LatencySummary;
  seqJob: LatencySummary;
  concDirect: LatencySummary;
  concPortkey: LatencySummary;
  concChat: LatencySummary;
  concDirectPerSecond: number;
  concPortkeyPerSecond: number;
  concChatPerSecond: number;
  redis: string;
}): ScenarioReport {
  const added = (s: LatencySummary, d: LatencySummary) => ({ p50: s.p50 - d.p50, p99: s.p99 - d.p99 });
  const seqAdded = added(r.seqChat, r.seqDirect);
  const pkAdded = added(r.seqPortkey, r.seqDirect);
  const concAdded = added(r.concChat, r.concDirect);
  const concPkAdded = added(r.concPortkey, r.concDirect);
  // Portkey's added latency can round to ~0 in a quiet run: a floor keeps the ratio meaningful.
  const ratio = (a: number, b: number) => a / Math.max(b, 0.05);
  const p50Ratio = ratio(seqAdded.p50, pkAdded.p50);
  const p99Ratio = ratio(seqAdded.p99, pkAdded.p99);
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
    title:
      'Interactive overhead: round trip through Switchyard and through Portkey vs a direct call to the mock',
    command: 'node test/bench/round-trip.ts',
    setup:
      `Mock upstream with no latency; API in the bench process, worker ${r.worker}. Sequential: ${r.n} ` +
      `calls of each kind, interleaved. Concurrent: ${r.concurrentN} calls from ${CONCURRENCY} clients, ` +
      `direct, Portkey and Switchyard phases alternating. Portkey runs in its own process.`,
    columns: [
      'case',
      'direct p50',
      'through p50',
      'added p50',
      'direct p99',
      'through p99',
      'added p99',
      'p50 ratio',
    ],
    rows: [
      row(`Portkey ${r.portkeyVersion}, sequential`, r.seqPortkey, r.seqDirect),
      row('POST /v1/chat/completions, sequential', r.seqChat, r.seqDirect),
      row(`Portkey ${r.portkeyVersion}, ${CONCURRENCY} concurrent`, r.concPortkey, r.concDirect),
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
      {
        what: "sequential chat, added p50 vs Portkey's",
        target: '≤ 1.5×',
        actual: times(p50Ratio),
        met: p50Ratio <= 1.5,
      },
      {
        what: "sequential chat, added p99 vs Portkey's",
        target: '≤ 2×',
        actual: times(p99Ratio),
        met: p99Ratio <= 2,
      },
    ],
    notes: [
      `${CONCURRENCY} concurrent: ${Math.round(r.concChatPerSecond)} chat completions/s through Switchyard, ` +
        `${Math.round(r.concPortkeyPerSecond)}/s through Portkey, ${Math.round(r.concDirectPerSecond)}/s direct; ` +
        `added p50/p99 ${ms(concAdded.p50)}/${ms(concAdded.p99)} vs Portkey's ${ms(concPkAdded.p50)}/${ms(concPkAdded.p99)} ` +
        `(${times(ratio(concAdded.p50, concPkAdded.p50))} / ${times(ratio(concAdded.p99, concPkAdded.p99))})`,
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await roundTrip({ quick: flag('quick'), inProcessWorker: flag('in-process-worker') }), option('json'));
}
