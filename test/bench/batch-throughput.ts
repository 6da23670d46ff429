/**
 * Batch throughput and Redis commands per job (issues #7 and #21).
 *
 * 50,000 completion jobs posted as one NDJSON body to `POST /v1/batches` and run by a worker
 * process against the mock upstream: once with direct egress, once through the proxy pool (a
 * fleet of local forward proxies on 127.0.0.x). Timed from the start of the submission until
 * GET /v1/batches/{id} says completed. The baselines, in the same run and on the same Redis:
 * `Queue.addBulk` of the same number of jobs (chunks of 500, Switchyard's own chunk size; default
 * job options) and a Worker process with the same concurrency as Switchyard's batch lane, timed
 * until BullMQ counts them all completed: the hand-written worker (an undici call to the same mock,
 * the answer kept as the job's return value: what a team writes instead of Switchyard) and a
 * no-op processor (the floor).
 * Redis commands per job are INFO commandstats deltas over the same runs (commands run by Lua
 * scripts counted under their own names; the runs' polling included).
 *
 *   node test/bench/batch-throughput.ts [--quick] [--cluster] [--json FILE] [--jobs 50000] [--concurrency 32]
 *
 * Targets: direct ≥ 60% of the hand-written worker's jobs/s, pool ≥ 45%; commands per job
 * ≤ 1.5× the hand-written worker's.
 * The API and the mock upstream (and the proxy fleet) run in this process; the Switchyard worker
 * (`--lanes batch`) and the raw BullMQ worker each run in their own process.
 */
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startProxyFleet, startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import {
  commandStats,
  cpuSeconds,
  MOCK_MODEL,
  mockModel,
  completionRequest,
  redisCpuSeconds,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  statsDelta,
  stopProcess,
  submitBatch,
  totalCalls,
  waitFor,
  waitForBatch,
  type BenchStack,
  type CommandStats,
} from './harness.ts';
import { clusterBatchThroughput } from './cluster-batch.ts';
import { rawQueue, startRawWorker } from './raw-bullmq.ts';
import { emit, int, machine, pct, round, times, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const POOL_MODEL = 'mock-via-pool';
const PROXIES = 8;

interface Run {
  name: string;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  commands: CommandStats;
  /** CPU seconds used during the run by the worker process, this process (API, mock, proxies, client) and Redis. */
  cpu: { worker: number; bench: number; redis: number };
  succeeded?: number;
  /** Switchyard: until POST /v1/batches answered (every line stored). */
  acceptSeconds?: number;
}

/** Runs `work` and measures it: wall time, commandstats and CPU deltas. */
async function measured(
  admin: Redis,
  name: string,
  jobs: number,
  workerPid: number,
  work: () => Promise<{ succeeded: number; acceptSeconds: number } | void>,
) {
  const cpu = async () => ({
    worker: cpuSeconds(workerPid),
    bench: cpuSeconds(process.pid),
    redis: await redisCpuSeconds(admin),
  });
  const [stats0, cpu0] = [await commandStats(admin), await cpu()];
  const t0 = performance.now();
  const out = await work();
  const seconds = (performance.now() - t0) / 1000;
  const commands = statsDelta(stats0, await commandStats(admin));
  const cpu1 = await cpu();
  const used = {
    worker: cpu1.worker - cpu0.worker,
    bench: cpu1.bench - cpu0.bench,
    redis: cpu1.redis - cpu0.redis,
  };
  const run: Run = { name, jobs, seconds, jobsPerSecond: jobs / seconds, commands, cpu: used };
  if (out) Object.assign(run, out);
  console.log(`  ${name}: ${int(run.jobsPerSecond)} jobs/s (${seconds.toFixed(1)} s)`);
  return run;
}

/**
 * Raw BullMQ: warm-up, then `jobs` jobs timed from the first addBulk to the last completion; with
 * `call`, the hand-written worker that sends each to the upstream, else a no-op processor.
 */
async function rawBullmq(
  url: string,
  admin: Redis,
  opts: { jobs: number; warmup: number; concurrency: number; call?: string },
) {
  const { jobs, warmup, concurrency, call } = opts;
  const queue = call ? 'handwritten' : 'throughput';
  const worker = await startRawWorker({ url, queue, concurrency, call });
  const q = rawQueue(url, queue);
  const data = (i: number) => ({ request: completionRequest(`document ${i}`, 'mock-small') });
  const name = call ? 'hand-written BullMQ + undici worker' : 'raw BullMQ, no-op processor (floor)';
  try {
    await q.add(warmup, data);
    await waitFor('raw warm-up', async () => (await q.count('completed')) >= warmup);
    return await measured(admin, name, jobs, worker.pid, async () => {
      await q.add(jobs, data);
      await waitFor('raw jobs', async () => (await q.count('completed')) >= warmup + jobs, 600_000);
    });
  } finally {
    await q.close();
    await stopProcess(worker);
  }
}

/** One Switchyard batch of `jobs` completions of `model`, timed until the batch is completed. */
async function switchyardBatch(
  bench: BenchStack,
  admin: Redis,
  workerPid: number,
  name: string,
  jobs: number,
  model: string,
) {
  const line = (i: number) => ({ type: 'completion', request: completionRequest(`document ${i}`, model) });
  return measured(admin, name, jobs, workerPid, async () => {
    const t0 = performance.now();
    const batch = await submitBatch(bench, jobs, line);
    const acceptSeconds = (performance.now() - t0) / 1000;
    return { succeeded: (await waitForBatch(bench, batch.id)).counts.succeeded ?? 0, acceptSeconds };
  });
}

export async function batchThroughput(opts: { quick: boolean; jobs?: number; concurrency?: number }) {
  const jobs = opts.jobs ?? (opts.quick ? 300 : 50_000);
  const warmup = opts.quick ? 50 : 1_000;
  const concurrency = opts.concurrency ?? 32;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const mock: MockLlm = await startMockLlm();
  const fleet = await startProxyFleet({ count: PROXIES, firstHostOctet: 61 });
  let bench: BenchStack | undefined;
  try {
    console.log(`batch throughput: ${jobs} jobs per run, worker concurrency ${concurrency}`);
    const raw = await rawBullmq(redis.url, admin, { jobs, warmup, concurrency });
    const hand = await rawBullmq(redis.url, admin, {
      jobs,
      warmup,
      concurrency,
      call: `${mock.url}/v1/chat/completions`,
    });

    bench = await startBenchStack({
      redis,
      mock,
      config: {
        worker: { concurrency: { interactive: 8, batch: concurrency } },
        models: { [POOL_MODEL]: mockModel(mock, { egress: 'pool' }) },
        // Room for every batch slot twice over, so the pool never runs dry and delays jobs.
        proxies: fleet.proxies.map((p) => ({
          id: p.id,
          url: p.url,
          maxConcurrency: Math.ceil((2 * concurrency) / PROXIES),
        })),
      },
    });
    const worker = await startBenchWorker(bench.config, ['--lanes', 'batch']);
    let direct: Run, pool: Run;
    const upstream0 = mock.stats().calls;
    const proxied = () => fleet.proxies.reduce((a, p) => a + p.stats.requests, 0);
    try {
      for (const model of [MOCK_MODEL, POOL_MODEL]) {
        const b = await submitBatch(bench, warmup, (i) => ({
          type: 'completion',
          request: completionRequest(`warm-up ${i}`, model),
        }));
        await waitForBatch(bench, b.id);
      }
      const proxied0 = proxied();
      const pid = worker.child.pid ?? 0;
      direct = await switchyardBatch(bench, admin, pid, 'Switchyard, direct egress', jobs, MOCK_MODEL);
      const proxiedDirect = proxied() - proxied0;
      pool = await switchyardBatch(bench, admin, pid, 'Switchyard, via the proxy pool', jobs, POOL_MODEL);
      const proxiedPool = proxied() - proxied0 - proxiedDirect;
      const upstreamCalls = mock.stats().calls - upstream0;
      if (proxiedDirect !== 0 || proxiedPool !== jobs || upstreamCalls !== 2 * (jobs + warmup))
        throw new Error(
          `unexpected traffic: ${proxiedDirect} / ${proxiedPool} proxied, ${upstreamCalls} upstream`,
        );
    } finally {
      await stopProcess(worker);
    }
    return reports(
      { jobs, concurrency, quick: opts.quick, raw, hand, direct, pool },
      await redisVersion(admin),
    );
  } finally {
    await bench?.close();
    admin.disconnect();
    await fleet.stop();
    await mock.close();
    await redis.stop();
  }
}

function reports(
  r: { jobs: number; concurrency: number; quick: boolean; raw: Run; hand: Run; direct: Run; pool: Run },
  redisVer: string,
): ScenarioReport[] {
  const m = machine(redisVer);
  const { raw, hand, direct, pool } = r;
  const perJob = (run: Run) => totalCalls(run.commands) / run.jobs;
  const rawJson = (run: Run) => ({
    ...run,
    commandsPerJob: round(perJob(run), 2),
    commands: Object.fromEntries(run.commands),
  });
  const directShare = direct.jobsPerSecond / hand.jobsPerSecond;
  const poolShare = pool.jobsPerSecond / hand.jobsPerSecond;
  const cmdRatio = perJob(direct) / perJob(hand);
  const throughput: ScenarioReport = {
    id: 'batch-throughput',
    title: `Batch throughput: ${int(r.jobs)} jobs via /v1/batches vs a hand-written BullMQ worker`,
    command: 'node test/bench/batch-throughput.ts',
    setup:
      `One NDJSON batch of ${int(r.jobs)} completions to the mock upstream (no latency), timed from submission ` +
      `to GET /v1/batches/{id} completed; worker process with batch concurrency ${r.concurrency}. Baselines, ` +
      `same concurrency, same Redis: BullMQ addBulk + a hand-written Worker process making the same undici ` +
      `call to the same mock (the answer kept as the return value), and + a no-op Worker (the floor). CPU per job: in the worker ` +
      `process, in the bench process (API, mock upstream, proxies and the client or producer) and in Redis.`,
    columns: [
      'run',
      'seconds',
      'jobs/s',
      'vs hand-written',
      'vs no-op floor',
      'CPU µs per job: worker',
      'bench process',
      'Redis',
    ],
    rows: [raw, hand, direct, pool].map((run) => [
      run.name,
      run.seconds.toFixed(1),
      int(run.jobsPerSecond),
      run === raw ? '—' : pct(run.jobsPerSecond / hand.jobsPerSecond),
      pct(run.jobsPerSecond / raw.jobsPerSecond),
      int((run.cpu.worker / run.jobs) * 1e6),
      int((run.cpu.bench / run.jobs) * 1e6),
      int((run.cpu.redis / run.jobs) * 1e6),
    ]),
    targets: [
      {
        what: 'direct egress vs the hand-written worker',
        target: '≥ 60%',
        actual: pct(directShare),
        met: directShare >= 0.6,
      },
      {
        what: 'via the proxy pool vs the hand-written worker',
        target: '≥ 45%',
        actual: pct(poolShare),
        met: poolShare >= 0.45,
      },
    ],
    notes: [
      `${int(r.jobs)} lines accepted by POST /v1/batches in ${direct.acceptSeconds?.toFixed(1)} s (direct) and ` +
        `${pool.acceptSeconds?.toFixed(1)} s (pool), while the worker was already running them; every job succeeded: ` +
        `${direct.succeeded === r.jobs && pool.succeeded === r.jobs ? 'yes' : 'NO'}`,
    ],
    quick: r.quick,
    machine: m,
    raw: { jobs: r.jobs, concurrency: r.concurrency, runs: [raw, hand, direct, pool].map(rawJson) },
  };
  // The commands Switchyard (direct) sends most, per job, next to raw BullMQ's and the pool's.
  const runs = [raw, hand, direct, pool];
  const names = [...new Set(runs.flatMap((run) => [...run.commands.keys()]))];
  const per = (run: Run, name: string) => (run.commands.get(name)?.calls ?? 0) / run.jobs;
  names.sort((a, b) => per(direct, b) - per(direct, a) || per(hand, b) - per(hand, a));
  const fmt = (x: number) => (x === 0 ? '–' : x.toFixed(2));
  const shown = (n: string) => runs.some((run) => per(run, n) >= 0.5);
  const top = names.filter(shown);
  const rest = (run: Run) => names.filter((n) => !shown(n)).reduce((a, n) => a + per(run, n), 0);
  const commands: ScenarioReport = {
    id: 'redis-commands',
    title: 'Redis commands per job: INFO commandstats deltas, Switchyard vs BullMQ workers',
    command: 'node test/bench/batch-throughput.ts',
    setup:
      'Sum of commandstats calls over the batch-throughput runs above, divided by the jobs; commands that ' +
      'Lua scripts run count under their own names (so an EVALSHA is one call plus its inner commands).',
    columns: ['command', 'no-op floor', 'hand-written', 'Switchyard direct', 'Switchyard via pool'],
    rows: [
      ['all commands', ...runs.map((run) => perJob(run).toFixed(1))],
      ...top.map((n) => [n, ...runs.map((run) => fmt(per(run, n)))]),
      ['(others)', ...runs.map((run) => fmt(rest(run)))],
    ],
    targets: [
      {
        what: "commands per job, direct vs the hand-written worker's",
        target: '≤ 1.5×',
        actual: times(cmdRatio),
        met: cmdRatio <= 1.5,
      },
    ],
    notes: [
      `direct: ${times(perJob(direct) / perJob(raw))} the no-op floor's commands per job; via the pool: ` +
        `${times(perJob(pool) / perJob(hand))} the hand-written worker's`,
    ],
    quick: r.quick,
    machine: m,
    raw: {
      perJob: { raw: perJob(raw), hand: perJob(hand), direct: perJob(direct), pool: perJob(pool) },
      ratio: { direct: cmdRatio, pool: perJob(pool) / perJob(hand) },
    },
  };
  return [throughput, commands];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = option('jobs');
  const c = option('concurrency');
  // --cluster: the same batch on one Redis and on a local Redis Cluster (cluster-batch.ts).
  const run = flag('cluster') ? clusterBatchThroughput : batchThroughput;
  const out = await run({
    quick: flag('quick'),
    jobs: n ? Number(n) : undefined,
    concurrency: c ? Number(c) : undefined,
  });
  emit(out, option('json'));
}
