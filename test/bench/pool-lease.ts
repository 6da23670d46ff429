/**
 * Proxy-pool lease benchmark: lease+release pairs per second from one process against one Redis,
 * for pools of 10, 1,000 and 10,000 proxies, next to the same client's EVALSHA rate for a
 * trivial script (`return 1`) at the same concurrency, measured in the same run. Server time per
 * EVALSHA comes from INFO commandstats: the mean over the timed pairs, and lease and release apart
 * (batches of leases, then their releases).
 *
 *   node test/bench/pool-lease.ts [--quick] [--json <file>] [--concurrency 64] [--seconds 3] [--rounds 5]
 *
 * Targets: pairs/s >= 50% of the raw EVALSHA rate, and flat (within 20%) across pool sizes.
 * A program that prints numbers; it asserts nothing.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis } from '@switchyard/test-kit';
import { ProxyPool } from '@switchyard/proxy-pool';
import { redisVersion } from './harness.ts';
import { int, machine, pct, writeReports, type ScenarioReport } from './report.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string' },
    'auto-pipelining': { type: 'boolean', default: false },
    rounds: { type: 'string' },
  },
});
const concurrency = Number(args.concurrency);
const seconds = Number(args.seconds ?? (args.quick ? 0.3 : 3));
const warmupSeconds = args.quick ? 0.1 : 0.5;
const sizes = args.quick ? [10, 100] : [10, 1_000, 10_000];
const roundCount = Number(args.rounds ?? (args.quick ? 1 : 5));

interface Measurement {
  name: string;
  poolSize?: number;
  opsPerSec: number;
  /** Mean server time per EVALSHA, from INFO commandstats (a pool's call may carry many leases). */
  serverUsPerCall: number;
  /** Server time of all EVALSHAs per op (per pair for the pools), from INFO commandstats. */
  serverUsPerOp: number;
  /** Mean server time of each pool script, from batches of leases and then of their releases. */
  leaseUs?: number;
  releaseUs?: number;
  exhausted?: number;
}

/** Runs `op` from `concurrency` loops for `secs` seconds; returns completed ops per second and how many. */
async function drive(secs: number, op: () => Promise<unknown>): Promise<{ rate: number; done: number }> {
  const deadline = performance.now() + secs * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  return { rate: done / ((performance.now() - started) / 1000), done };
}

async function evalshaStats(admin: Redis): Promise<{ usec: number; usPerCall: number }> {
  const stats = await admin.info('commandstats');
  const m = /cmdstat_evalsha:calls=\d+,usec=(\d+),usec_per_call=([\d.]+)/.exec(stats);
  return m ? { usec: Number(m[1]), usPerCall: Number(m[2]) } : { usec: NaN, usPerCall: NaN };
}

async function measure(
  admin: Redis,
  op: () => Promise<unknown>,
): Promise<{ opsPerSec: number; serverUsPerCall: number; serverUsPerOp: number }> {
  await drive(warmupSeconds, op);
  await admin.config('RESETSTAT');
  const { rate, done } = await drive(seconds, op);
  const stats = await evalshaStats(admin);
  return { opsPerSec: rate, serverUsPerCall: stats.usPerCall, serverUsPerOp: stats.usec / done };
}

/** Server time per lease and per release, apart: batches of `concurrency` leases, then their releases,
 * with INFO commandstats read between the two. Per lease and per release, not per EVALSHA: the pool
 * sends the leases (and plain releases) issued in one tick as one script call. */
async function perScriptUs(admin: Redis, pool: ProxyPool): Promise<{ leaseUs: number; releaseUs: number }> {
  const evalsha = async () => {
    const m = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(await admin.info('commandstats'));
    return { usec: Number(m?.[1] ?? 0) };
  };
  const sum = { ln: 0, lu: 0, rn: 0, ru: 0 };
  for (let batch = 0; batch < (args.quick ? 5 : 30); batch++) {
    const s0 = await evalsha();
    const leases = await Promise.all(
      Array.from({ length: concurrency }, () => pool.lease({ lane: 'interactive', host: 'api.example.com' })),
    );
    const s1 = await evalsha();
    const released = await Promise.all(
      leases.flatMap((l) => (l.exhausted ? [] : [pool.release(l, { outcome: 'ok', bytes: 2048 })])),
    );
    const s2 = await evalsha();
    sum.ln += leases.length;
    sum.lu += s1.usec - s0.usec;
    sum.rn += released.length;
    sum.ru += s2.usec - s1.usec;
  }
  return { leaseUs: sum.lu / sum.ln, releaseUs: sum.ru / sum.rn };
}

async function setupPool(redis: Redis, size: number): Promise<ProxyPool> {
  const pool = new ProxyPool({ redis, prefix: `bench${size}` });
  const maxConcurrency = Math.max(4, Math.ceil((4 * concurrency) / size));
  for (let i = 0; i < size; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, size - i) }, (_, j) =>
        pool.upsert({
          id: `p${i + j}`,
          url: `http://user:pass@10.${(i + j) >> 16}.${((i + j) >> 8) & 255}.${(i + j) & 255}:3128`,
          tags: ['dc'],
          maxConcurrency,
          pricePerGbUsd: 1,
        }),
      ),
    );
  }
  return pool;
}

/** The run's measurement of one case: the median round by rate. */
function median(rounds: Measurement[]): Measurement {
  const sorted = [...rounds].sort((x, y) => x.opsPerSec - y.opsPerSec);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const handle = await startRedis({ dedicated: true });
  const redis = new Redis(handle.url, { enableAutoPipelining: args['auto-pipelining'] });
  const admin = new Redis(handle.url);
  const rounds = new Map<string, Measurement[]>();
  const version = await redisVersion(admin);
  const record = (m: Measurement) => rounds.set(m.name, [...(rounds.get(m.name) ?? []), m]);
  try {
    redis.defineCommand('benchReturnOne', { lua: 'return 1', numberOfKeys: 1 });
    const returnOne = () =>
      (Reflect.get(redis, 'benchReturnOne') as (key: string) => Promise<number>).call(
        redis,
        'bench:{pool}:x',
      );
    const pools = new Map<number, ProxyPool>();
    for (const size of sizes) pools.set(size, await setupPool(redis, size));
    // warm the JIT and the connection before anything is measured
    await drive(args.quick ? 0.2 : 2, returnOne);

    // Rounds interleave the cases (and alternate their order) so drift hits all of them alike.
    for (let round = 0; round < roundCount; round++) {
      record({ name: 'EVALSHA return 1', ...(await measure(admin, returnOne)) });
      for (const size of round % 2 ? [...sizes].reverse() : sizes) {
        const pool = pools.get(size)!;
        let exhausted = 0;
        const pair = async () => {
          const lease = await pool.lease({ lane: 'interactive', host: 'api.example.com' });
          if (lease.exhausted) {
            exhausted++;
            return;
          }
          await pool.release(lease, { outcome: 'ok', bytes: 2048 });
        };
        const m = await measure(admin, pair);
        record({
          name: `lease+release, ${size.toLocaleString('en')} proxies`,
          poolSize: size,
          ...m,
          ...(await perScriptUs(admin, pool)),
          exhausted,
        });
      }
    }
    record({ name: 'EVALSHA return 1', ...(await measure(admin, returnOne)) });
  } finally {
    redis.disconnect();
    admin.disconnect();
    await handle.stop();
  }
  report([...rounds.values()].map(median), handle.source, version, rounds);
}

function report(
  results: Measurement[],
  redisSource: string,
  version: string,
  rounds: Map<string, Measurement[]>,
): void {
  const rawRate = results.find((r) => r.poolSize === undefined)?.opsPerSec ?? NaN;
  const pools = results.filter((r) => r.poolSize !== undefined);
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const rows = results.map((r) => [
    r.name,
    fmt(r.opsPerSec),
    r.poolSize === undefined ? '-' : `${((r.opsPerSec / rawRate) * 100).toFixed(1)}%`,
    r.poolSize === undefined ? '-' : `${(((2 * r.opsPerSec) / rawRate) * 100).toFixed(1)}%`,
    r.serverUsPerCall.toFixed(1),
    r.serverUsPerOp.toFixed(1),
    r.leaseUs === undefined ? '-' : `${r.leaseUs.toFixed(1)} / ${(r.releaseUs ?? NaN).toFixed(1)}`,
    r.exhausted === undefined ? '-' : String(r.exhausted),
  ]);
  const header = [
    'case',
    'per second',
    'pairs vs raw',
    'scripts vs raw',
    'server us/EVALSHA',
    'server us/op',
    'us lease / release',
    'exhausted',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rates = pools.map((p) => p.opsPerSec);
  const spread = Math.max(...rates) / Math.min(...rates) - 1;
  const worst = Math.min(...rates) / rawRate;

  console.log(
    `\nproxy pool lease benchmark: node ${process.version}, ${availableParallelism()} CPUs, redis ${redisSource}, ` +
      `concurrency ${concurrency}, ${seconds}s per case, ${roundCount} round(s), medians shown, auto-pipelining ${args['auto-pipelining'] ? 'on' : 'off'}`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const spreadOf = (ms: Measurement[]) => ms.map((m) => fmt(m.opsPerSec)).join(' / ');
  console.log(
    `\nrounds (per second): ${[...rounds].map(([name, ms]) => `${name}: ${spreadOf(ms)}`).join('; ')}`,
  );
  console.log(
    `raw EVALSHA (median of ${rounds.get('EVALSHA return 1')?.length ?? 0} rounds): ${fmt(rawRate)}/s`,
  );
  console.log(
    `lowest pairs/s vs raw EVALSHA: ${(worst * 100).toFixed(1)}% (target >= 50%: ${worst >= 0.5 ? 'met' : 'missed'})`,
  );
  console.log(
    `spread across pool sizes: ${(spread * 100).toFixed(1)}% (target <= 20%: ${spread <= 0.2 ? 'met' : 'missed'})`,
  );
  if (args.json) {
    const summary: ScenarioReport = {
      id: 'pool-lease',
      title: 'Proxy pool: lease+release pairs per second vs raw EVALSHA',
      command: 'node test/bench/pool-lease.ts',
      setup:
        `Lease+release pairs from one process against one Redis, ${concurrency} in flight, ${seconds} s per case, ` +
        `median of ${roundCount} round(s). Baseline: the same client's EVALSHA of \`return 1\` in the same run.`,
      columns: ['case', 'per second', 'vs raw EVALSHA', 'server µs lease / release'],
      rows: results.map((r) => [
        r.poolSize === undefined ? 'EVALSHA `return 1`' : `${int(r.poolSize)} proxies`,
        int(r.opsPerSec),
        r.poolSize === undefined ? '—' : pct(r.opsPerSec / rawRate),
        r.leaseUs === undefined ? '—' : `${r.leaseUs.toFixed(1)} / ${(r.releaseUs ?? NaN).toFixed(1)}`,
      ]),
      targets: [
        { what: 'lowest pairs/s vs raw EVALSHA', target: '≥ 50%', actual: pct(worst), met: worst >= 0.5 },
        { what: 'spread across pool sizes', target: '≤ 20%', actual: pct(spread), met: spread <= 0.2 },
      ],
      quick: args.quick,
      machine: machine(version),
      raw: { concurrency, seconds, rawEvalshaPerSec: rawRate, pairsVsRaw: worst, spread, results },
    };
    writeReports([summary], args.json);
    console.log(`wrote ${args.json}`);
  }
}

await main();
