/**
 * The batch scenario on a Redis Cluster (`batch-throughput.ts --cluster`, `pnpm bench --cluster`):
 * the same Switchyard batch (completions to the mock upstream, direct egress, a worker process
 * with `--lanes batch`) on one Redis and on a local Redis Cluster of 3 masters + 3 replicas, in
 * the same run. Timed from the submission until GET /v1/batches/{id} says completed; Redis
 * commands per job are INFO commandstats deltas summed over the masters, with each master's share.
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import {
  startRedis,
  startRedisCluster,
  type ClusterNodeHandle,
  type RedisClusterHandle,
  type RedisHandle,
} from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import {
  commandStats,
  completionRequest,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  statsDelta,
  stopProcess,
  submitBatch,
  totalCalls,
  waitForBatch,
} from './harness.ts';
import { int, machine, pct, type ScenarioReport } from './report.ts';

interface ClusterRun {
  name: string;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  succeeded: number;
  commandsPerJob: number;
  /** Each master's share of the run's commands (one entry on a single Redis). */
  perMaster: { address: string; calls: number }[];
}

/** Commands each master ran during `work` (commandstats deltas). */
async function perMasterCalls(
  masters: { host: string; port: number; address: string }[],
  work: () => Promise<void>,
) {
  const clients = masters.map((m) => new Redis({ host: m.host, port: m.port }));
  try {
    const before = await Promise.all(clients.map((c) => commandStats(c)));
    await work();
    const after = await Promise.all(clients.map((c) => commandStats(c)));
    return masters.map((m, i) => ({
      address: m.address,
      calls: totalCalls(statsDelta(before[i] ?? new Map(), after[i] ?? new Map())),
    }));
  } finally {
    for (const c of clients) c.disconnect();
  }
}

async function oneRun(
  name: string,
  target: RedisHandle | RedisClusterHandle,
  masters: ClusterNodeHandle[] | RedisHandle[],
  opts: { jobs: number; warmup: number; concurrency: number },
): Promise<ClusterRun> {
  const mock = await startMockLlm();
  const bench = await startBenchStack({
    redis: target,
    mock,
    config: { worker: { concurrency: { interactive: 2, batch: opts.concurrency } } },
  });
  const worker = await startBenchWorker(bench.config, ['--lanes', 'batch']);
  try {
    const line = (label: string) => (i: number) => ({
      type: 'completion',
      request: completionRequest(`${label} ${i}`),
    });
    await waitForBatch(bench, (await submitBatch(bench, opts.warmup, line('warm-up'))).id);
    let seconds = 0;
    let succeeded = 0;
    const nodes = masters.map((m) => ({ host: m.host, port: m.port, address: `${m.host}:${m.port}` }));
    const perMaster = await perMasterCalls(nodes, async () => {
      const t0 = performance.now();
      const batch = await submitBatch(bench, opts.jobs, line('document'));
      succeeded = (await waitForBatch(bench, batch.id)).counts.succeeded ?? 0;
      seconds = (performance.now() - t0) / 1000;
    });
    const calls = perMaster.reduce((a, m) => a + m.calls, 0);
    const run = {
      name,
      jobs: opts.jobs,
      seconds,
      jobsPerSecond: opts.jobs / seconds,
      succeeded,
      commandsPerJob: calls / opts.jobs,
      perMaster,
    };
    console.log(`  ${name}: ${int(run.jobsPerSecond)} jobs/s (${seconds.toFixed(1)} s)`);
    return run;
  } finally {
    await stopProcess(worker);
    await bench.close();
    await mock.close();
  }
}

export async function clusterBatchThroughput(opts: {
  quick: boolean;
  jobs?: number;
  concurrency?: number;
}): Promise<ScenarioReport[]> {
  const jobs = opts.jobs ?? (opts.quick ? 300 : 20_000);
  const sizes = { jobs, warmup: opts.quick ? 50 : 500, concurrency: opts.concurrency ?? 32 };
  console.log(
    `batch throughput on a Redis Cluster: ${jobs} jobs per run, worker concurrency ${sizes.concurrency}`,
  );
  const single = await startRedis({ dedicated: true });
  let one: ClusterRun;
  let version: string | undefined;
  try {
    one = await oneRun('one Redis', single, [single], sizes);
    const admin = new Redis(single.url);
    version = await redisVersion(admin);
    admin.disconnect();
  } finally {
    await single.stop();
  }
  const cluster = await startRedisCluster();
  let on: ClusterRun;
  try {
    on = await oneRun('Redis Cluster, 3 masters + 3 replicas', cluster, await cluster.masters(), sizes);
  } finally {
    await cluster.stop();
  }
  return [report({ ...sizes, quick: opts.quick }, one, on, version ?? '')];
}

function report(
  r: { jobs: number; concurrency: number; quick: boolean },
  one: ClusterRun,
  on: ClusterRun,
  version: string,
): ScenarioReport {
  const shares = (run: ClusterRun) => {
    const total = run.perMaster.reduce((a, m) => a + m.calls, 0) || 1;
    return run.perMaster.map((m) => pct(m.calls / total)).join(' / ');
  };
  return {
    id: 'batch-throughput-cluster',
    title: `Batch throughput on a Redis Cluster: ${int(r.jobs)} jobs via /v1/batches, one Redis vs a cluster`,
    command: 'node test/bench/batch-throughput.ts --cluster',
    setup:
      `One NDJSON batch of ${int(r.jobs)} completions to the mock upstream (no latency), direct egress, ` +
      `timed from submission to GET /v1/batches/{id} completed; a worker process with batch concurrency ` +
      `${r.concurrency}. Once on one redis-server, once on a local Redis Cluster (3 masters + 3 replicas ` +
      `on loopback, same machine). Commands are INFO commandstats deltas summed over the masters.`,
    columns: ['run', 'seconds', 'jobs/s', 'vs one Redis', 'commands per job', "masters' shares of commands"],
    rows: [one, on].map((run) => [
      run.name,
      run.seconds.toFixed(1),
      int(run.jobsPerSecond),
      pct(run.jobsPerSecond / one.jobsPerSecond),
      run.commandsPerJob.toFixed(1),
      shares(run),
    ]),
    targets: [],
    notes: [
      `every job succeeded: ${one.succeeded === r.jobs && on.succeeded === r.jobs ? 'yes' : 'NO'}`,
      'one batch lane is one BullMQ queue, so one hash tag and one master carry it (lanes.batch.shards spreads it)',
    ],
    quick: r.quick,
    machine: machine(version),
    raw: { jobs: r.jobs, concurrency: r.concurrency, runs: [one, on] },
  };
}
