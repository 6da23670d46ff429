/**
 * Replicas (issue #21): does a batch finish proportionally faster with more worker processes?
 *
 * The mock upstream answers after 200 ms, so a worker's time goes into waiting, not CPU, and
 * the fleet's batch concurrency is what should set the pace. One NDJSON batch of 4,000
 * completions goes to `POST /v1/batches`, run by 1 worker process (`--lanes batch`, batch
 * concurrency 32), then again by 4 such processes; each timed from the start of the submission
 * until GET /v1/batches/{id} says completed. The worker processes start (and take a small warm-up
 * batch) before the clock starts. Alongside: CPU seconds used by the worker processes, the bench
 * process (API, mock upstream) and Redis, and the most jobs the mock saw in flight at once.
 *
 *   node test/bench/replicas.ts [--quick] [--json FILE] [--jobs 4000] [--workers 4] [--buffer N (0: fair share off)]
 *
 * Target: 4 processes ≥ 3.5× faster than 1 (ideal: 4×; the floor is jobs / (processes ×
 * concurrency) × 200 ms).
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  completionRequest,
  cpuSeconds,
  MOCK_MODEL,
  redisCpuSeconds,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  stopProcess,
  submitBatch,
  waitForBatch,
  type BenchStack,
} from './harness.ts';
import { emit, int, machine, times, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const LATENCY_MS = 200;

interface Run {
  workers: number;
  jobs: number;
  seconds: number;
  /** jobs / (workers × concurrency) × latency: every slot busy from the first second to the last. */
  idealSeconds: number;
  acceptSeconds: number;
  succeeded: number;
  /** Most upstream calls the mock had in flight at once (sampled every 20 ms). */
  peakUpstreamInFlight: number;
  /** Mean of those samples over the run: how busy the fleet's slots were. */
  meanUpstreamInFlight: number;
  /** Seconds from the start until the mock first saw every slot busy (NaN: never). */
  fullAfterSeconds: number;
  cpu: { workers: number; bench: number; redis: number };
}

/** `workers` worker processes run one batch of `jobs`; timed from submission to completed. */
async function run(
  bench: BenchStack,
  admin: Redis,
  inFlight: () => number,
  opts: { workers: number; jobs: number; warmup: number; concurrency: number },
): Promise<Run> {
  const { workers: n, jobs, warmup, concurrency } = opts;
  const procs = await Promise.all(
    Array.from({ length: n }, () => startBenchWorker(bench.config, ['--lanes', 'batch'])),
  );
  const line = (tag: string) => (i: number) => ({
    type: 'completion',
    request: completionRequest(`${tag} ${i}`, MOCK_MODEL),
  });
  try {
    await waitForBatch(bench, (await submitBatch(bench, warmup, line(`warm-up ${n}`))).id, 50);
    const pids = procs.map((p) => p.child.pid ?? 0);
    const cpu = async () => ({
      workers: pids.reduce((a, pid) => a + cpuSeconds(pid), 0),
      bench: cpuSeconds(process.pid),
      redis: await redisCpuSeconds(admin),
    });
    const cpu0 = await cpu();
    let [peak, sum, samples, fullAt] = [0, 0, 0, Number.NaN];
    let sampling = true;
    const t0 = performance.now();
    const sampler = (async () => {
      while (sampling) {
        const now = inFlight();
        [peak, sum, samples] = [Math.max(peak, now), sum + now, samples + 1];
        if (now >= n * concurrency && Number.isNaN(fullAt)) fullAt = (performance.now() - t0) / 1000;
        await sleep(20);
      }
    })();
    const batch = await submitBatch(bench, jobs, line(`document ${n}`));
    const acceptSeconds = (performance.now() - t0) / 1000;
    const done = await waitForBatch(bench, batch.id, 50);
    const seconds = (performance.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const cpu1 = await cpu();
    const r: Run = {
      workers: n,
      jobs,
      seconds,
      idealSeconds: (jobs / (n * concurrency)) * (LATENCY_MS / 1000),
      acceptSeconds,
      succeeded: done.counts.succeeded ?? 0,
      peakUpstreamInFlight: peak,
      meanUpstreamInFlight: sum / Math.max(1, samples),
      fullAfterSeconds: fullAt,
      cpu: {
        workers: cpu1.workers - cpu0.workers,
        bench: cpu1.bench - cpu0.bench,
        redis: cpu1.redis - cpu0.redis,
      },
    };
    console.log(
      `  ${n} worker process(es): ${seconds.toFixed(2)} s, upstream in flight: peak ${peak}, ` +
        `mean ${r.meanUpstreamInFlight.toFixed(1)}, all slots busy after ${fullAt.toFixed(2)} s`,
    );
    return r;
  } finally {
    await Promise.all(procs.map((p) => stopProcess(p)));
  }
}

export async function replicas(opts: {
  quick: boolean;
  jobs?: number;
  workers?: number;
  /** `fairness.bufferJobs`; `0`: fair share off (jobs straight into the lane), to tell the mover's share. */
  buffer?: number;
}) {
  const jobs = opts.jobs ?? (opts.quick ? 128 : 4_000);
  const workers = opts.workers ?? 4;
  const concurrency = opts.quick ? 8 : 32;
  const warmup = opts.quick ? 16 : 200;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const mock = await startMockLlm({ latencyMs: LATENCY_MS });
  let bench: BenchStack | undefined;
  try {
    bench = await startBenchStack({
      redis,
      mock,
      config: {
        worker: { concurrency: { interactive: 8, batch: concurrency } },
        ...(opts.buffer === undefined
          ? {}
          : { fairness: opts.buffer ? { bufferJobs: opts.buffer } : { enabled: false } }),
      },
    });
    console.log(
      `replicas: ${jobs} jobs, ${LATENCY_MS} ms upstream, batch concurrency ${concurrency} per process`,
    );
    // Calls the mock has opened and not yet answered.
    const inFlight = () => {
      const s = mock.stats();
      return s.calls - Object.values(s.byOutcome).reduce((a, b) => a + b, 0);
    };
    const one = await run(bench, admin, inFlight, { workers: 1, jobs, warmup, concurrency });
    const many = await run(bench, admin, inFlight, { workers, jobs, warmup, concurrency });
    return report(
      { quick: opts.quick, concurrency, fairness: bench.config.fairness, one, many },
      await redisVersion(admin),
    );
  } finally {
    await bench?.close();
    admin.disconnect();
    await mock.close();
    await redis.stop();
  }
}

function report(
  r: {
    quick: boolean;
    concurrency: number;
    fairness: { enabled: boolean; bufferJobs: number };
    one: Run;
    many: Run;
  },
  redisVer: string,
): ScenarioReport {
  const { one, many } = r;
  const speedup = one.seconds / many.seconds;
  const perJobUs = (x: number, run: Run) => ((x / run.jobs) * 1e6).toFixed(0);
  return {
    id: 'replicas',
    title: `Replicas: a ${int(one.jobs)}-job batch on 1 and ${many.workers} worker processes, ${LATENCY_MS} ms upstream`,
    command: 'node test/bench/replicas.ts',
    setup:
      `One NDJSON batch of ${int(one.jobs)} completions to a mock upstream answering after ${LATENCY_MS} ms, ` +
      `timed from submission to GET /v1/batches/{id} completed; worker processes \`--lanes batch\` with batch ` +
      `concurrency ${r.concurrency} each (fair share ${r.fairness.enabled ? 'on' : 'off'}, \`fairness.bufferJobs\` ` +
      `${r.fairness.bufferJobs}), started and warmed up before the clock starts. Ideal: jobs ÷ (processes × ` +
      `concurrency) × ${LATENCY_MS} ms.`,
    columns: [
      'worker processes',
      'seconds',
      'ideal seconds',
      'of ideal',
      'upstream in flight: mean',
      'peak',
      'all busy after',
      'CPU µs per job: workers',
      'bench process',
      'Redis',
    ],
    rows: [one, many].map((run) => [
      String(run.workers),
      run.seconds.toFixed(2),
      run.idealSeconds.toFixed(2),
      `${((run.idealSeconds / run.seconds) * 100).toFixed(0)}%`,
      run.meanUpstreamInFlight.toFixed(1),
      int(run.peakUpstreamInFlight),
      Number.isNaN(run.fullAfterSeconds) ? 'never' : `${run.fullAfterSeconds.toFixed(2)} s`,
      perJobUs(run.cpu.workers, run),
      perJobUs(run.cpu.bench, run),
      perJobUs(run.cpu.redis, run),
    ]),
    targets: [
      {
        what: `${many.workers} worker processes vs 1, batch time`,
        target: '≥ 3.5× faster',
        actual: times(speedup),
        met: speedup >= 3.5,
      },
    ],
    notes: [
      `POST /v1/batches accepted the ${int(one.jobs)} lines in ${one.acceptSeconds.toFixed(2)} s (1 process) and ` +
        `${many.acceptSeconds.toFixed(2)} s (${many.workers}); every job succeeded: ` +
        `${one.succeeded === one.jobs && many.succeeded === many.jobs ? 'yes' : 'NO'}`,
    ],
    quick: r.quick,
    machine: machine(redisVer),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = option('jobs');
  const w = option('workers');
  const b = option('buffer');
  const out = await replicas({
    buffer: b ? Number(b) : undefined,
    quick: flag('quick'),
    jobs: n ? Number(n) : undefined,
    workers: w ? Number(w) : undefined,
  });
  emit(out, option('json'));
}
