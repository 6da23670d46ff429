/**
 * The sharded batch lane on a Redis Cluster (issue #24, docs/adr/0026-sharded-batch-lane.md).
 *
 * A 3-master Redis Cluster on loopback (`redis-server --cluster-enabled yes` ×3, joined by
 * `redis-cli --cluster create`, no replicas: self-contained here, apart from the test kit). The
 * batch lane's own code runs on it through an ioredis `Cluster`: `JobStore.enqueue` (BullMQ
 * `addBulk` and the fair-share hold, per shard), one fair-share mover and one BullMQ Worker per
 * shard (no-op processor, the lane's concurrency split between the shards), as `lanes.batch.shards`
 * 1 and then 3, each on a fresh prefix. Jobs come from 4 tenants. Timed from the workers' start
 * until every job completed; the submission is timed apart. Per master: `INFO commandstats` calls
 * over the whole run (CONFIG RESETSTAT first; the bench's own INFO, CONFIG and CLUSTER calls left out).
 *
 *   node test/bench/batch-shards.ts [--quick] [--json FILE] [--jobs 20000] [--concurrency 32] [--rounds 3]
 *
 * Targets: with 3 shards each master carries 33% ± 10 points of the commands; 3 shards' jobs/s ≥
 * 1 shard's (the same machine, the same cluster, the same run).
 */
import { FairMover, FairShare } from '@switchyard/admission';
import { JobSpecSchema } from '@switchyard/contracts';
import { jobKeys, JobStore, type NewJob } from '@switchyard/jobs';
import { freePort } from '@switchyard/test-kit';
import { Queue, Worker } from 'bullmq';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { commandStats, redisCpuSeconds, redisVersion, statsDelta, totalCalls } from './harness.ts';
import { emit, int, machine, pct, round, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const quick = flag('quick');
const JOBS = Number(option('jobs') ?? (quick ? 600 : 30_000));
const CONCURRENCY = Number(option('concurrency') ?? 32);
/** `fairness.bufferJobs`: the ready jobs each shard's mover keeps in its shard. */
const BUFFER = Number(option('buffer') ?? 64);
/** Runs of each shard count; the median (by jobs/s) is reported. */
const ROUNDS = Number(option('rounds') ?? (quick ? 1 : 5));
const TENANTS = ['t1', 't2', 't3', 't4'];
const OWN = /^(info|config|cluster|ping|command|client|select|hello)/;

interface LocalCluster {
  ports: number[];
  nodes: Redis[];
  stop(): Promise<void>;
}

/** `worker.concurrency.batch` split between shards as a worker splits it (apps/worker/src/lane-queues.ts). */
function shardConcurrency(total: number, shards: number): number[] {
  const base = Math.floor(total / shards);
  return Array.from({ length: shards }, (_, i) => Math.max(1, base + (i < total % shards ? 1 : 0)));
}

/** Three masters on loopback, slots split evenly by `redis-cli --cluster create`. */
async function startCluster(): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  for (const port of ports) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'];
    args.push(
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    );
    children.push(spawn('redis-server', args, { stdio: 'ignore' }));
  }
  const nodes = ports.map((port) => new Redis({ port, host: '127.0.0.1' }));
  for (const n of nodes) n.on('error', () => undefined); // refused until the node listens
  for (const n of nodes)
    for (let i = 0; i < 100 && (await n.ping().catch(() => '')) !== 'PONG'; i++) await sleep(50);
  const create = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8' },
  );
  if (create.status !== 0) throw new Error(`redis-cli --cluster create: ${create.stderr || create.stdout}`);
  for (const n of nodes)
    for (let i = 0; !(await n.cluster('INFO')).includes('cluster_state:ok'); i++) {
      if (i > 200) throw new Error('the cluster did not come up');
      await sleep(50);
    }
  return {
    ports,
    nodes,
    async stop() {
      for (const n of nodes) n.disconnect();
      for (const c of children) c.kill('SIGTERM');
      await sleep(200);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The master port serving each shard's hash tag (from CLUSTER SLOTS). */
async function shardHomes(node: Redis, shards: number, prefix: string): Promise<number[]> {
  const slots = await node.cluster('SLOTS');
  const keys = jobKeys(prefix);
  return Promise.all(
    Array.from({ length: shards }, async (_, s) => {
      const slot = Number(await node.cluster('KEYSLOT', keys.queueName('batch', s)));
      return slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1] ?? 0;
    }),
  );
}

const spec = JobSpecSchema.parse({
  type: 'completion',
  lane: 'batch',
  request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
});

interface Run {
  shards: number;
  /** Each shard's mover's ready buffer. */
  buffer: number;
  jobs: number;
  submitSeconds: number;
  drainSeconds: number;
  jobsPerSecond: number;
  /** Commands per master port over the run. */
  perNode: Record<number, number>;
  /** The master port of each shard. */
  homes: number[];
  /** CPU during the drain as a share of its wall time: each master (by port), and this process (the workers). */
  cpu: { perNode: Record<number, number>; workers: number };
}

async function run(cl: LocalCluster, shards: number, buffer: number): Promise<Run> {
  const prefix = `bs${shards}x${Date.now().toString(36)}`;
  const cluster = new Cluster(
    cl.ports.map((port) => ({ host: '127.0.0.1', port })),
    { redisOptions: { maxRetriesPerRequest: null } },
  );
  const redis = cluster as unknown as Redis; // the lane's code takes a Redis; Cluster has the same commands
  for (const n of cl.nodes) await n.config('RESETSTAT');
  const before = await Promise.all(cl.nodes.map((n) => commandStats(n)));
  const fair = new FairShare({ redis, prefix, shards });
  const settings = { retentionSeconds: 3_600, maxAttempts: 1, backoffMs: 100 };
  const store = new JobStore({
    redis,
    prefix,
    ...settings,
    idempotencyTtlSeconds: 3_600,
    defaultTimeoutMs: 3_600_000,
    fair,
    batchShards: shards,
  });
  const t0 = performance.now();
  const now = Date.now();
  for (let from = 0; from < JOBS; from += 500) {
    const chunk = Array.from({ length: Math.min(500, JOBS - from) }, (_, i) => from + i);
    await Promise.all(
      TENANTS.map((tenant) => {
        const mine = chunk.filter((i) => TENANTS[i % TENANTS.length] === tenant);
        const jobs = mine.map((i): NewJob => {
          const jobId = store.idempotentJobId('batch', tenant, `job-${i}`);
          return { jobId, spec, fingerprint: '', deadline: now + 3_600_000 };
        });
        return store.enqueue(tenant, jobs, now);
      }),
    );
  }
  const submitted = performance.now();
  const keys = jobKeys(prefix);
  const slots = shardConcurrency(CONCURRENCY, shards);
  const queues = Array.from(
    { length: shards },
    (_, s) => new Queue(keys.queueName('batch', s), { connection: cluster, prefix }),
  );
  // Connected before the clock starts: their start-up is not part of the drain.
  const workers = queues.map(
    (q, s) =>
      new Worker(q.name, async () => ({}), {
        connection: cluster,
        prefix,
        concurrency: slots[s] ?? 1,
        autorun: false,
      }),
  );
  await Promise.all([...queues, ...workers].map((x) => x.waitUntilReady()));
  const movers = queues.map((queue, shard) => new FairMover({ fair, queue, shard, buffer }));
  const cpu0 = {
    nodes: await Promise.all(cl.nodes.map((n) => redisCpuSeconds(n))),
    self: process.cpuUsage(),
  };
  const t1 = performance.now();
  for (const w of workers) void w.run();
  for (const m of movers) m.start();
  for (;;) {
    const done = await Promise.all(queues.map((q) => q.getJobCountByTypes('completed')));
    if (done.reduce((a, b) => a + b, 0) >= JOBS) break;
    await sleep(100);
  }
  const t2 = performance.now();
  const selfCpu = process.cpuUsage(cpu0.self);
  const nodeCpu = await Promise.all(cl.nodes.map((n) => redisCpuSeconds(n)));
  await Promise.all(movers.map((m) => m.stop()));
  await Promise.all(workers.map((w) => w.close()));
  const after = await Promise.all(cl.nodes.map((n) => commandStats(n)));
  const perNode: Record<number, number> = {};
  cl.ports.forEach((port, i) => {
    const delta = statsDelta(before[i] ?? new Map(), after[i] ?? new Map());
    for (const name of delta.keys()) if (OWN.test(name)) delta.delete(name);
    perNode[port] = totalCalls(delta);
  });
  const homes = await shardHomes(cl.nodes[0] as Redis, shards, prefix);
  await Promise.all(queues.map((q) => q.close()));
  await store.close();
  cluster.disconnect();
  const drainSeconds = (t2 - t1) / 1000;
  const cpuPerNode: Record<number, number> = {};
  cl.ports.forEach(
    (port, i) => (cpuPerNode[port] = ((nodeCpu[i] ?? 0) - (cpu0.nodes[i] ?? 0)) / drainSeconds),
  );
  return {
    shards,
    buffer,
    jobs: JOBS,
    submitSeconds: (submitted - t0) / 1000,
    drainSeconds,
    jobsPerSecond: JOBS / drainSeconds,
    perNode,
    homes,
    cpu: { perNode: cpuPerNode, workers: (selfCpu.user + selfCpu.system) / 1e6 / drainSeconds },
  };
}

/** The run with the median jobs/s of several. */
const median = (runs: Run[]) =>
  [...runs].sort((x, y) => x.jobsPerSecond - y.jobsPerSecond)[runs.length >> 1] as Run;

const cl = await startCluster();
try {
  // Alternating, so drift in the machine's load (2 cores shared) hits both alike.
  const ones: Run[] = [];
  const threes: Run[] = [];
  const splits: Run[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ones.push(await run(cl, 1, BUFFER));
    // What a worker does: every shard's mover keeps `fairness.bufferJobs` ready in its shard.
    threes.push(await run(cl, 3, BUFFER));
    // For comparison: the same total ready buffer as one shard, split between the three.
    splits.push(await run(cl, 3, Math.ceil(BUFFER / 3)));
  }
  const [one, three, split] = [median(ones), median(threes), median(splits)];
  // Each round's 3-shard run against the 1-shard run just before it: drift in the machine's load
  // between rounds cancels out.
  const ratios = threes
    .map((r, i) => r.jobsPerSecond / (ones[i]?.jobsPerSecond ?? Infinity))
    .sort((x, y) => x - y);
  const pairRatio = ratios[ratios.length >> 1] ?? 0;
  const share = (r: Run, port: number) =>
    (r.perNode[port] ?? 0) / Object.values(r.perNode).reduce((a, b) => a + b, 0);
  const shares3 = cl.ports.map((p) => share(three, p));
  const spread = Math.max(...shares3.map((s) => Math.abs(s - 1 / 3)));
  const rows = [one, three, split].map((r) => [
    String(r.shards),
    String(r.buffer),
    int(r.jobs),
    `${r.submitSeconds.toFixed(2)} s`,
    `${r.drainSeconds.toFixed(2)} s`,
    int(r.jobsPerSecond),
    cl.ports.map((p) => `${int(r.perNode[p] ?? 0)} (${pct(share(r, p))})`).join(' / '),
    r.homes.map((p) => cl.ports.indexOf(p) + 1).join(', '),
    cl.ports.map((p) => pct(r.cpu.perNode[p] ?? 0)).join(' / '),
    pct(r.cpu.workers),
  ]);
  const report: ScenarioReport = {
    id: 'batch-shards',
    title: 'Sharded batch lane on a 3-master Redis Cluster',
    command: `node test/bench/batch-shards.ts --jobs ${JOBS} --concurrency ${CONCURRENCY} --rounds ${ROUNDS}`,
    setup: `${int(JOBS)} batch jobs from ${TENANTS.length} tenants through the lane's own code (JobStore, fair share, one mover and one no-op BullMQ Worker per shard, ${CONCURRENCY} slots split between shards) on a local 3-master cluster via ioredis Cluster; lanes.batch.shards 1, then 3 (each shard's mover keeping fairness.bufferJobs ${BUFFER} ready, as workers do), then 3 with that buffer split between them, in turn, ${ROUNDS} runs each; the median run (by jobs/s) of each is shown.`,
    columns: [
      'shards',
      'ready buffer per shard',
      'jobs',
      'submit',
      'drain',
      'jobs/s',
      'commands per master 1 / 2 / 3 (share)',
      'shard → master',
      'Redis CPU per master, drain',
      'worker process CPU, drain',
    ],
    rows,
    targets: [
      {
        what: 'each master’s share of the commands, 3 shards',
        target: '33% ± 10 points',
        actual: shares3.map(pct).join(' / '),
        met: spread <= 0.1,
      },
      {
        what: 'jobs/s, 3 shards vs 1 (median of the rounds’ ratios)',
        target: '≥ 1.00×',
        actual: `${pairRatio.toFixed(2)}×`,
        met: pairRatio >= 1,
      },
    ],
    notes: [
      `Every run’s jobs/s: 1 shard ${ones.map((r) => int(r.jobsPerSecond)).join(', ')}; 3 shards ${threes.map((r) => int(r.jobsPerSecond)).join(', ')}; 3 shards with the buffer split ${splits.map((r) => int(r.jobsPerSecond)).join(', ')}.`,
      'No-op jobs: the drain is bound by how fast the movers refill the ready buffers (one script round trip per round, a 5 ms pause while a round moves less than half a buffer), not by Redis; the same total buffer split between 3 shards is the third row.',
      'Commands exclude the bench’s own INFO, CONFIG and CLUSTER calls; the completion polling (one SCRIPT per shard every 100 ms) is included.',
    ],
    quick,
    machine: machine(await redisVersion(cl.nodes[0] as Redis)),
    raw: { ones, threes, splits, ports: cl.ports, shares3: shares3.map((s) => round(s)) },
  };
  emit(report, option('json'));
} finally {
  await cl.stop();
}
