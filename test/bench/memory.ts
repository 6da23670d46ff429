/**
 * Memory (issues #7 and #21), two measurements against the hand-written BullMQ + undici worker in
 * the same run:
 *
 * - Redis bytes per finished, retained job: a batch of completions with a 1,024-character prompt
 *   each, run to completion by a worker process (`--lanes batch`) against a mock upstream whose
 *   answers are about 1 KB; INFO memory `used_memory` delta per job, the jobs kept
 *   (`jobs.retentionSeconds`). Baseline: `addBulk` of jobs carrying the same request, run by the
 *   hand-written worker, which keeps the upstream's answer as the return value (BullMQ's default:
 *   completed jobs kept). Both queues' event streams are filled to their cap by a warm-up first,
 *   so the figure is what one more retained job costs, not the (capped) stream's growth.
 *   Target: ≤ 2.5× the payload (prompt + answer bytes).
 * - Worker RSS with 512 jobs in flight: a Switchyard worker process (`--lanes batch`, batch
 *   concurrency 512) runs a 512-line batch against a mock upstream that answers only after
 *   minutes, so every job stays in flight; VmRSS from /proc/<pid>/status, idle and at 512 in
 *   flight. Baseline: the hand-written worker (concurrency 512), its undici calls held by the same
 *   mock. Target: ≤ 1.5× the hand-written worker's RSS at 512 in flight.
 *
 *   node test/bench/memory.ts [--quick] [--json FILE]
 */
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { jobKeys } from '@switchyard/jobs';
import { startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
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
  waitForBatch,
  type BenchStack,
} from './harness.ts';
import { rawQueue, startRawWorker } from './raw-bullmq.ts';
import { bytes, emit, int, machine, times, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const HOLD_MS = 300_000;
/** The model answered by the quick mock (about 1 KB per answer) in the retained-jobs runs. */
const ANSWER_MODEL = 'mock-1k';
/** Words in the quick mock's answers: about 1,024 bytes of content (measured and reported). */
const ANSWER_WORDS = 186;
/** BullMQ's default cap of a queue's event stream (`streams.events.maxLen`). */
const EVENTS_CAP = 10_000;

/** A distinct prompt of exactly 1,024 characters. */
const prompt = (i: number) => `${i} ${'lorem ipsum dolor sit amet '.repeat(40)}`.slice(0, 1024);

interface Rss {
  idle: number;
  loaded: number;
  /** What the mock upstream had in flight at the loaded sample. */
  upstreamInFlight: number;
}

/** Calls the mock has opened and not answered yet. */
function inFlightAt(mock: MockLlm): number {
  const s = mock.stats();
  return s.calls - Object.values(s.byOutcome).reduce((a, b) => a + b, 0);
}

/** Idle RSS of `pid` (peak over `sampleMs / 2`), then the peak over `sampleMs` once the mock holds `n` calls. */
async function rssAround(pid: number, n: number, sampleMs: number, held: MockLlm, load: () => Promise<void>) {
  const idle = await peakRss(pid, sampleMs / 2);
  const before = inFlightAt(held);
  await load();
  await waitFor(`${n} calls in flight`, async () => inFlightAt(held) - before >= n);
  await sleep(sampleMs / 2);
  const loaded = await peakRss(pid, sampleMs);
  return { idle, loaded, upstreamInFlight: inFlightAt(held) - before };
}

async function rawRss(url: string, held: MockLlm, n: number, sampleMs: number): Promise<Rss> {
  const worker = await startRawWorker({
    url,
    queue: 'inflight',
    concurrency: n,
    call: `${held.url}/v1/chat/completions`,
  });
  const q = rawQueue(url, 'inflight');
  try {
    const data = (i: number) => ({ request: completionRequest(prompt(i), 'mock-small') });
    return await rssAround(worker.pid, n, sampleMs, held, () => q.add(n, data));
  } finally {
    await q.close();
    await stopProcess(worker);
  }
}

async function switchyardRss(bench: BenchStack, held: MockLlm, n: number, sampleMs: number): Promise<Rss> {
  const worker = await startBenchWorker(bench.config, ['--lanes', 'batch']);
  try {
    const line = (i: number) => ({ type: 'completion', request: completionRequest(prompt(i), MOCK_MODEL) });
    return await rssAround(worker.child.pid ?? 0, n, sampleMs, held, async () => {
      await submitBatch(bench, n, line);
    });
  } finally {
    await stopProcess(worker);
  }
}

/** used_memory growth per job while `run` adds and finishes `n` jobs. */
async function bytesPerJob(admin: Redis, n: number, run: () => Promise<void>): Promise<number> {
  const before = await usedMemory(admin);
  await run();
  await sleep(200);
  return ((await usedMemory(admin)) - before) / n;
}

interface Retained {
  /** used_memory delta per finished job. */
  perJob: number;
  /** MEMORY USAGE of each kind of per-job key, mean over a sample of the run's jobs. */
  keys: Record<string, number>;
  /** Event-stream entries after the warm-up (at its cap, so it no longer grows with jobs). */
  streamEntries: number;
}

/** Mean MEMORY USAGE of up to `max` keys matching `pattern` (SCAN), 0 when none match. */
async function meanKeyBytes(admin: Redis, pattern: string, max = 200): Promise<number> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0' && found.length < max);
  const sample = found.slice(0, max);
  let total = 0;
  for (const k of sample) total += Number(await admin.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
  return sample.length ? total / sample.length : 0;
}

/** The hand-written worker: warm-up (fills the event stream), then `n` jobs, each kept with its answer. */
async function rawRetained(url: string, admin: Redis, mock: MockLlm, n: number, warmup: number) {
  const worker = await startRawWorker({
    url,
    queue: 'retained',
    concurrency: 32,
    call: `${mock.url}/v1/chat/completions`,
  });
  const q = rawQueue(url, 'retained');
  const data = (i: number) => ({ request: completionRequest(prompt(i), 'mock-small') });
  try {
    await q.add(warmup, data);
    await waitFor('raw warm-up', async () => (await q.count('completed')) >= warmup, 300_000);
    const streamEntries = await admin.xlen(`${q.queue.opts.prefix}:retained:events`);
    const perJob = await bytesPerJob(admin, n, async () => {
      await q.add(n, data);
      await waitFor('raw jobs', async () => (await q.count('completed')) >= warmup + n, 300_000);
    });
    const keys = { 'job hash': await meanKeyBytes(admin, `${q.queue.opts.prefix}:retained:[0-9]*`) };
    return { perJob, streamEntries, keys };
  } finally {
    await q.close();
    await stopProcess(worker);
  }
}

/** Switchyard: warm-up batch (fills the batch lane's event stream), then one batch of `n`. */
async function switchyardRetained(bench: BenchStack, admin: Redis, n: number, warmup: number) {
  const worker = await startBenchWorker(bench.config, ['--lanes', 'batch']);
  const { prefix } = bench.config.redis;
  const lane = jobKeys(prefix).queueName('batch');
  const line = (i: number) => ({ type: 'completion', request: completionRequest(prompt(i), ANSWER_MODEL) });
  try {
    await waitForBatch(bench, (await submitBatch(bench, warmup, line)).id);
    const streamEntries = await admin.xlen(`${prefix}:${lane}:events`);
    const perJob = await bytesPerJob(admin, n, async () => {
      const batch = await submitBatch(bench, n, line);
      const done = await waitForBatch(bench, batch.id);
      if (done.counts.succeeded !== n) throw new Error(`batch: ${JSON.stringify(done.counts)}`);
    });
    const keys = {
      'job hash': await meanKeyBytes(admin, `${prefix}:${lane}:jb_*`),
      'ledger job hash': await meanKeyBytes(admin, `${prefix}:ledger:*:job:*`),
      'attempts hash': await meanKeyBytes(admin, `${prefix}:attempts:*`),
    };
    return { perJob, streamEntries, keys };
  } finally {
    await stopProcess(worker);
  }
}

/** The length of the quick mock's answer content to a 1 KB prompt, in bytes. */
async function answerBytes(mock: MockLlm): Promise<number> {
  const res = await request(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(completionRequest(prompt(0), 'mock-small')),
  });
  const body = (await res.body.json()) as { choices: { message: { content: string } }[] };
  return Buffer.byteLength(body.choices[0]?.message.content ?? '');
}

export async function memory(opts: { quick: boolean }): Promise<ScenarioReport> {
  const inFlight = opts.quick ? 16 : 512;
  const retainedJobs = opts.quick ? 200 : 10_000;
  // Enough jobs to fill an event stream to its cap (several events per job).
  const warmup = opts.quick ? 50 : EVENTS_CAP / 2;
  const sampleMs = opts.quick ? 400 : 2_000;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const held = await startMockLlm({ latencyMs: HOLD_MS });
  const answering = await startMockLlm({ answerWords: ANSWER_WORDS });
  let bench: BenchStack | undefined;
  try {
    bench = await startBenchStack({
      redis,
      mock: held,
      config: {
        worker: { concurrency: { interactive: 8, batch: inFlight }, shutdownGraceMs: 500 },
        models: {
          [MOCK_MODEL]: mockModel(held, { timeoutMs: 2 * HOLD_MS }),
          [ANSWER_MODEL]: mockModel(answering),
        },
      },
    });
    const payload = { prompt: Buffer.byteLength(prompt(0)), answer: await answerBytes(answering) };
    // Retained jobs first: the held jobs of the RSS runs would stay active in Redis afterwards.
    const retained = {
      raw: await rawRetained(redis.url, admin, answering, retainedJobs, warmup),
      switchyard: await switchyardRetained(bench, admin, retainedJobs, warmup),
    };
    const rss = {
      raw: await rawRss(redis.url, held, inFlight, sampleMs),
      switchyard: await switchyardRss(bench, held, inFlight, sampleMs),
    };
    return report({
      quick: opts.quick,
      inFlight,
      retainedJobs,
      payload,
      rss,
      retained,
      redis: await redisVersion(admin),
    });
  } finally {
    await bench?.close();
    admin.disconnect();
    await held.close();
    await answering.close();
    await redis.stop();
  }
}

function report(r: {
  quick: boolean;
  inFlight: number;
  retainedJobs: number;
  payload: { prompt: number; answer: number };
  rss: { raw: Rss; switchyard: Rss };
  retained: { raw: Retained; switchyard: Retained };
  redis: string;
}): ScenarioReport {
  const { raw, switchyard: sy } = r.rss;
  const perJob = (x: Rss) => (x.loaded - x.idle) / r.inFlight;
  const payload = r.payload.prompt + r.payload.answer;
  const bytesRatio = r.retained.switchyard.perJob / payload;
  const rssRatio = sy.loaded / raw.loaded;
  return {
    id: 'memory',
    title: `Memory: Redis bytes per finished job (1 KB prompt, 1 KB answer), worker RSS at ${r.inFlight} in flight`,
    command: 'node test/bench/memory.ts',
    setup:
      `Redis: used_memory delta over ${int(r.retainedJobs)} finished, retained completion jobs (prompt ` +
      `${int(r.payload.prompt)} B, answer ${int(r.payload.answer)} B), after a warm-up that fills the event ` +
      `streams to their cap. Worker processes with concurrency ${r.inFlight}, every job held in flight (the mock ` +
      `answers after ${HOLD_MS / 60_000} min); VmRSS idle and loaded. Baseline: the hand-written BullMQ + undici ` +
      `worker (answer kept as the return value), same mocks, same Redis.`,
    columns: ['measurement', 'hand-written worker', 'Switchyard', 'ratio'],
    rows: [
      [
        'Redis bytes per finished job',
        bytes(r.retained.raw.perJob),
        bytes(r.retained.switchyard.perJob),
        times(r.retained.switchyard.perJob / r.retained.raw.perJob),
      ],
      [`… vs the payload (${int(payload)} B)`, times(r.retained.raw.perJob / payload), times(bytesRatio), ''],
      ...Object.keys(r.retained.switchyard.keys).map((k) => [
        `… of which ${k} (MEMORY USAGE)`,
        r.retained.raw.keys[k] === undefined ? '—' : bytes(r.retained.raw.keys[k] ?? 0),
        bytes(r.retained.switchyard.keys[k] ?? 0),
        '',
      ]),
      ['worker RSS, idle', bytes(raw.idle), bytes(sy.idle), times(sy.idle / raw.idle)],
      [`worker RSS, ${r.inFlight} in flight`, bytes(raw.loaded), bytes(sy.loaded), times(rssRatio)],
      [
        'worker RSS growth per in-flight job',
        bytes(perJob(raw)),
        bytes(perJob(sy)),
        times(perJob(sy) / perJob(raw)),
      ],
    ],
    targets: [
      {
        what: 'Redis bytes per finished, retained job vs the payload',
        target: '≤ 2.5×',
        actual: times(bytesRatio),
        met: bytesRatio <= 2.5,
      },
      {
        what: `worker RSS at ${r.inFlight} in flight vs the hand-written worker's`,
        target: '≤ 1.5×',
        actual: times(rssRatio),
        met: rssRatio <= 1.5,
      },
    ],
    notes: [
      `the mock upstream held ${raw.upstreamInFlight} (hand-written) and ${sy.upstreamInFlight} (Switchyard) ` +
        `calls at the loaded sample`,
      `event streams after the warm-up: ${int(r.retained.raw.streamEntries)} and ` +
        `${int(r.retained.switchyard.streamEntries)} entries (BullMQ caps them near ${int(EVENTS_CAP)})`,
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await memory({ quick: flag('quick') }), option('json'));
}
