/**
 * Lane isolation: interactive round-trip latency (POST /v1/jobs + Prefer: wait) while the batch
 * lane holds a flood of queued jobs and its workers are saturated, against the same measurement
 * on an idle broker, in one run. Target (issue #21): flood p99 ≤ 1.5 × idle p99, in every full run.
 *
 *   node test/bench/lane-isolation.ts [--quick] [--json out.json]
 *
 * The API and the mock upstream (5 ms latency) run in this process; each lane has its own worker
 * process (`--lanes interactive`, `--lanes batch`; batch concurrency 32, interactive 8).
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import {
  completionRequest,
  interactiveJob,
  MOCK_MODEL,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  stopProcess,
  submitBatch,
} from './harness.ts';
import { emit, int, machine, ms, times, type ScenarioReport } from './report.ts';
import { flag, option, summarize, timeIt, type LatencySummary } from './stats.ts';

export async function laneIsolation(opts: { quick: boolean }): Promise<ScenarioReport> {
  const samples = opts.quick ? 30 : 400;
  const flood = opts.quick ? 2_000 : 100_000;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const mock = await startMockLlm({ latencyMs: 5 });
  const bench = await startBenchStack({
    redis,
    mock,
    config: { worker: { concurrency: { interactive: 8, batch: 32 } } },
  });
  // One worker process per lane, as ops would scale them (`--lanes`).
  const workers = [
    await startBenchWorker(bench.config, ['--lanes', 'interactive']),
    await startBenchWorker(bench.config, ['--lanes', 'batch']),
  ];
  const agent = new Agent({ connections: 8 });
  const interactive = interactiveJob(bench, agent);
  const measure = async () => {
    const s: number[] = [];
    for (let i = 0; i < samples; i++) s.push(await timeIt(interactive));
    return summarize(s);
  };
  try {
    for (let i = 0; i < 20; i++) await interactive();
    const idle = await measure();
    // Flood the batch lane through /v1/batches (NDJSON, at most 50,000 lines per request).
    const started = Date.now();
    for (let sent = 0; sent < flood; sent += 50_000) {
      const n = Math.min(50_000, flood - sent);
      await submitBatch(bench, n, () => ({
        type: 'completion',
        request: completionRequest('flood', MOCK_MODEL),
      }));
    }
    const enqueueSeconds = (Date.now() - started) / 1000;
    const busy = await measure();
    const callsBefore = mock.stats().calls;
    await new Promise((r) => setTimeout(r, 1000));
    const batchPerSecond = mock.stats().calls - callsBefore;
    return report({
      quick: opts.quick,
      samples,
      flood,
      enqueueSeconds,
      batchPerSecond,
      idle,
      busy,
      redis: await redisVersion(admin),
    });
  } finally {
    await Promise.all(workers.map(stopProcess));
    admin.disconnect();
    await agent.close();
    await bench.close();
    await mock.close();
    await redis.stop();
  }
}

function report(r: {
  quick: boolean;
  samples: number;
  flood: number;
  enqueueSeconds: number;
  batchPerSecond: number;
  idle: LatencySummary;
  busy: LatencySummary;
  redis: string;
}): ScenarioReport {
  const p99Ratio = r.busy.p99 / r.idle.p99;
  return {
    id: 'lane-isolation',
    title: 'Lane isolation: interactive latency, idle vs under a batch flood',
    command: 'node test/bench/lane-isolation.ts',
    setup:
      `${r.samples} sequential interactive jobs (POST /v1/jobs + Prefer: wait; mock upstream with 5 ms latency) ` +
      `on an idle broker, then with ${int(r.flood)} batch jobs queued and the batch worker saturated; one worker ` +
      `process per lane (interactive concurrency 8, batch 32). Baseline: the idle measurement.`,
    columns: ['', 'p50', 'p99'],
    rows: [
      ['idle', ms(r.idle.p50), ms(r.idle.p99)],
      [`${int(r.flood)}-job batch flood`, ms(r.busy.p50), ms(r.busy.p99)],
      ['ratio', times(r.busy.p50 / r.idle.p50), times(p99Ratio)],
    ],
    targets: [
      { what: 'flood p99 vs idle p99', target: '≤ 1.5×', actual: times(p99Ratio), met: p99Ratio <= 1.5 },
    ],
    notes: [
      `the batch lane ran ${int(r.batchPerSecond)} jobs/s during the flood; ` +
        `${int(r.flood)} jobs enqueued in ${r.enqueueSeconds.toFixed(1)} s`,
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await laneIsolation({ quick: flag('quick') }), option('json'));
}
