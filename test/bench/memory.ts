/**
 * Memory (issue #7, scenario 5), two measurements against raw BullMQ in the same run:
 *
 * - Worker RSS with 512 jobs in flight: a Switchyard worker process (`--lanes batch`, batch
 *   concurrency 512) runs a 512-line batch against a mock upstream that answers only after
 *   minutes, so every job stays in flight; VmRSS from /proc/<pid>/status, idle and at 512 in flight.
 *   Baseline: a raw BullMQ Worker process (concurrency 512) whose processor holds each job.
 * - Redis bytes per queued job with a 1 KB prompt: INFO memory `used_memory` delta over a batch of
 *   10,000 jobs posted to /v1/batches with no worker running, per job. Baseline: raw BullMQ
 *   `addBulk` of as many jobs carrying the same completion request (1 KB prompt) as data.
 *
 *   node test/bench/memory.ts [--quick] [--json FILE]
 *
 * No targets in issue #7; the ratios to raw BullMQ are reported.
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import { jobKeys } from '@switchyard/jobs';
import { startRedis } from '@switchyard/test-kit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  completionRequest,
  MOCK_MODEL,
  mockModel,
  peakRss,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  stopProcess,
  submitBatch,
  usedMemory,
  waitFor,
  type BenchStack,
} from './harness.ts';
import { rawQueue, startRawWorker } from './raw-bullmq.ts';
import { bytes, emit, int, machine, times, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const HOLD_MS = 300_000;

/** A distinct prompt of exactly 1,024 characters. */
const prompt = (i: number) => `${i} ${'lorem ipsum dolor sit amet '.repeat(40)}`.slice(0, 1024);

interface Rss {
  idle: number;
  loaded: number;
  /** What the mock upstream saw in flight (Switchyard only). */
  upstreamInFlight?: number;
}

/** Idle RSS of `pid` (peak over `sampleMs / 2`), then the peak over `sampleMs` once `inFlight()` reaches `n`. */
async function rssAround(
  pid: number,
  n: number,
  sampleMs: number,
  load: () => Promise<void>,
  inFlight: () => Promise<number>,
) {
  const idle = await peakRss(pid, sampleMs / 2);
  await load();
  await waitFor(`${n} jobs in flight`, async () => (await inFlight()) >= n);
  await sleep(sampleMs / 2);
  return { idle, loaded: await peakRss(pid, sampleMs) };
}

async function rawRss(url: string, n: number, sampleMs: number): Promise<Rss> {
  const worker = await startRawWorker({ url, queue: 'inflight', concurrency: n, holdMs: HOLD_MS });
  const q = rawQueue(url, 'inflight');
  try {
    const data = (i: number) => ({ request: completionRequest(prompt(i)) });
    return await rssAround(
      worker.pid,
      n,
      sampleMs,
      () => q.add(n, data),
      () => q.count('active'),
    );
  } finally {
    await q.close();
    await stopProcess(worker);
  }
}

async function switchyardRss(
  bench: BenchStack,
  n: number,
  sampleMs: number,
  upstreamCalls: () => number,
): Promise<Rss> {
  const worker = await startBenchWorker(bench.config, ['--lanes', 'batch']);
  const connection = new Redis(bench.config.redis.url, { maxRetriesPerRequest: null });
  const { prefix } = bench.config.redis;
  const queue = new Queue(jobKeys(prefix).queueName('batch'), { connection, prefix });
  try {
    const calls0 = upstreamCalls();
    const line = (i: number) => ({ type: 'completion', request: completionRequest(prompt(i), MOCK_MODEL) });
    const rss = await rssAround(
      worker.child.pid ?? 0,
      n,
      sampleMs,
      async () => void (await submitBatch(bench, n, line)),
      async () => (await queue.getJobCounts('active')).active ?? 0,
    );
    return { ...rss, upstreamInFlight: upstreamCalls() - calls0 };
  } finally {
    await stopProcess(worker);
    await queue.close();
    connection.disconnect();
  }
}

/** used_memory growth per job while `add` queues `n` jobs (nothing consumes them). */
async function bytesPerJob(admin: Redis, n: number, add: () => Promise<void>): Promise<number> {
  const before = await usedMemory(admin);
  await add();
  await sleep(200);
  return ((await usedMemory(admin)) - before) / n;
}

export async function memory(opts: { quick: boolean }): Promise<ScenarioReport> {
  const inFlight = opts.quick ? 16 : 512;
  const queued = opts.quick ? 200 : 10_000;
  const sampleMs = opts.quick ? 400 : 2_000;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const mock = await startMockLlm({ latencyMs: HOLD_MS });
  let bench: BenchStack | undefined;
  try {
    bench = await startBenchStack({
      redis,
      mock,
      config: {
        worker: { concurrency: { interactive: 8, batch: inFlight }, shutdownGraceMs: 500 },
        models: { [MOCK_MODEL]: mockModel(mock, { timeoutMs: 2 * HOLD_MS }) },
      },
    });
    const rss = {
      raw: await rawRss(redis.url, inFlight, sampleMs),
      switchyard: await switchyardRss(bench, inFlight, sampleMs, () => mock.stats().calls),
    };

    // Queued jobs: no worker runs from here on (the held jobs above stay where they were).
    const raw = rawQueue(redis.url, 'queued');
    const rawBytes = await bytesPerJob(admin, queued, () =>
      raw.add(queued, (i) => ({ request: completionRequest(prompt(i)) })),
    );
    await raw.close();
    const line = (i: number) => ({ type: 'completion', request: completionRequest(prompt(i), MOCK_MODEL) });
    const b = bench;
    const syBytes = await bytesPerJob(admin, queued, async () => void (await submitBatch(b, queued, line)));
    return report({
      quick: opts.quick,
      inFlight,
      queued,
      rss,
      rawBytes,
      syBytes,
      redis: await redisVersion(admin),
    });
  } finally {
    await bench?.close();
    admin.disconnect();
    await mock.close();
    await redis.stop();
  }
}

function report(r: {
  quick: boolean;
  inFlight: number;
  queued: number;
  rss: { raw: Rss; switchyard: Rss };
  rawBytes: number;
  syBytes: number;
  redis: string;
}): ScenarioReport {
  const { raw, switchyard: sy } = r.rss;
  const perJob = (x: Rss) => (x.loaded - x.idle) / r.inFlight;
  return {
    id: 'memory',
    title: `Memory: worker RSS at ${r.inFlight} in-flight jobs, Redis bytes per queued job (1 KB prompt)`,
    command: 'node test/bench/memory.ts',
    setup:
      `Worker processes with concurrency ${r.inFlight}, every job held in flight (the mock answers after ` +
      `${HOLD_MS / 60_000} min; raw BullMQ's processor waits as long); VmRSS idle and loaded. Redis: used_memory ` +
      `delta over ${int(r.queued)} queued jobs with a 1,024-character prompt, no worker running.`,
    columns: ['measurement', 'raw BullMQ', 'Switchyard', 'ratio'],
    rows: [
      ['worker RSS, idle', bytes(raw.idle), bytes(sy.idle), times(sy.idle / raw.idle)],
      [
        `worker RSS, ${r.inFlight} in flight`,
        bytes(raw.loaded),
        bytes(sy.loaded),
        times(sy.loaded / raw.loaded),
      ],
      [
        'worker RSS growth per in-flight job',
        bytes(perJob(raw)),
        bytes(perJob(sy)),
        times(perJob(sy) / perJob(raw)),
      ],
      ['Redis bytes per queued job', bytes(r.rawBytes), bytes(r.syBytes), times(r.syBytes / r.rawBytes)],
    ],
    targets: [],
    notes: [
      `the mock upstream saw ${sy.upstreamInFlight ?? 0} of Switchyard's ${r.inFlight} in-flight jobs at once` +
        ((sy.upstreamInFlight ?? 0) < r.inFlight
          ? ' (the rest waited inside the worker for a connection)'
          : ''),
      'no memory targets are set in issue #7',
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await memory({ quick: flag('quick') }), option('json'));
}
