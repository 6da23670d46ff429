/**
 * Proxy-pool lease benchmark: lease+release pairs per second from one process against one Redis,
 * for pools of 10, 1,000 and 10,000 proxies, next to the same client's EVALSHA rate for a
 * trivial script (`return 1`) at the same concurrency, measured in the same run. Server time per
 * EVALSHA comes from INFO commandstats: the mean over the timed pairs, and lease and release apart
 * (batches of leases, then their releases).
 *
 *   node test/bench/pool-lease.ts [--quick] [--json <file>] [--concurrency 64] [--seconds 1] [--rounds 30]
 *
 * Target: for each pool size, pairs/s >= 40% of the raw EVALSHA rate in the same run.
 * A program that prints numbers; it asserts nothing.
 *
 * How the ratios are taken: a round measures every case once, one after the other (raw first,
 * then the pools, their order alternating), `--seconds` each, with one more raw measurement at
 * the end. Each pool's rate in a round is divided by the raw rate around that round (the mean of
 * the raw measurements before and after it), and each pool's ratio is the median of those. On a
 * shared VM the machine's speed moves by tens of percent from one second to the next: pairing
 * each measurement with raw taken seconds away cancels that drift. The ratios of the per-case
 * median rates are printed beside them.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedis } from '@switchyard/test-kit';
import type { ProxyPool } from '@switchyard/proxy-pool';
import { redisVersion } from './harness.ts';
import { setupBenchPool } from './pool-setup.ts';
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
const seconds = Number(args.seconds ?? (args.quick ? 0.3 : 1));
const warmupSeconds = args.quick ? 0.1 : 0.25;
const sizes = args.quick ? [10, 1_000] : [10, 1_000, 10_000];
const roundCount = Number(args.rounds ?? (args.quick ? 1 : 30));

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

/** The row shown for one case: its median round by rate. */
function median(rounds: Measurement[]): Measurement {
  const sorted = [...rounds].sort((x, y) => x.opsPerSec - y.opsPerSec);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const handle = await startRedis({ dedicated: true });
  const redis = new Redis(handle.url, { enableAutoPipelining: args['auto-pipelining'] });
  const admin = new Redis(handle.url);
  const rounds = new Map<string, Measurement[]>();
  const perScript = new Map<number, { leaseUs: number; releaseUs: number }>();
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
    for (const size of sizes) pools.set(size, await setupBenchPool(redis, size, concurrency));
    // warm the JIT and the connection before anything is measured
    await drive(args.quick ? 0.2 : 2, returnOne);

    const pairOf = (pool: ProxyPool, counter: { exhausted: number }) => async () => {
      const lease = await pool.lease({ lane: 'interactive', host: 'api.example.com' });
      if (lease.exhausted) {
        counter.exhausted++;
        return;
      }
      await pool.release(lease, { outcome: 'ok', bytes: 2048 });
    };
    // A round measures every case once, raw first, the pools' order alternating; the raw rate is
    // measured once more at the end, so every round has a raw measurement before and after it.
    for (let round = 0; round < roundCount; round++) {
      record({ name: RAW, ...(await measure(admin, returnOne)) });
      for (const size of round % 2 ? [...sizes].reverse() : sizes) {
        const counter = { exhausted: 0 };
        const m = await measure(admin, pairOf(pools.get(size)!, counter));
        record({ name: poolCase(size), poolSize: size, ...m, exhausted: counter.exhausted });
      }
    }
    record({ name: RAW, ...(await measure(admin, returnOne)) });
    // server time per lease and per release apart, after the timed rounds (it is not timed)
    for (const size of sizes) perScript.set(size, await perScriptUs(admin, pools.get(size)!));
  } finally {
    redis.disconnect();
    admin.disconnect();
    await handle.stop();
  }
  const results = [...rounds.values()]
    .map(median)
    .map((m) => (m.poolSize === undefined ? m : { ...m, ...perScript.get(m.poolSize) }));
  report(results, handle.source, version, rounds);
}

const RAW = 'EVALSHA return 1';
const poolCase = (size: number) => `lease+release, ${size.toLocaleString('en')} proxies`;
const medianOf = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Each pool's ratio to raw from the rounds: its rate in a round over the raw rate around that
 * round (the mean of the raw measurements before and after it), and the median of that per pool.
 */
function pairedRatios(rounds: Map<string, Measurement[]>): {
  vsRaw: Map<number, number[]>;
  medians: Map<number, number>;
} {
  const raw = rounds.get(RAW) ?? [];
  const vsRaw = new Map<number, number[]>();
  const medians = new Map<number, number>();
  for (const size of sizes) {
    const ratios = (rounds.get(poolCase(size)) ?? []).flatMap((m, r) => {
      const before = raw[r]?.opsPerSec;
      const after = raw[r + 1]?.opsPerSec;
      return before && after ? [m.opsPerSec / ((before + after) / 2)] : [];
    });
    vsRaw.set(size, ratios);
    medians.set(size, medianOf(ratios));
  }
  return { vsRaw, medians };
}

/** The target: pairs/s at least this share of raw EVALSHA, for every pool size. */
const TARGET = 0.4;

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
  // the target: each pool's median of the per-round ratios; beside it the ratio of the per-case medians
  const paired = pairedRatios(rounds);
  const ofMedians = new Map(pools.map((p) => [p.poolSize!, p.opsPerSec / rawRate]));
  const pcts = (xs: number[]) => xs.map((x) => (x * 100).toFixed(1)).join(' / ');

  console.log(
    `\nproxy pool lease benchmark: node ${process.version}, ${availableParallelism()} CPUs, redis ${redisSource}, ` +
      `concurrency ${concurrency}, ${seconds}s per case, ${roundCount} round(s), medians shown, auto-pipelining ${args['auto-pipelining'] ? 'on' : 'off'}`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const ratesOf = (ms: Measurement[]) => ms.map((m) => fmt(m.opsPerSec)).join(' / ');
  console.log(
    `\nrounds (per second):\n${[...rounds].map(([name, ms]) => `  ${name}: ${ratesOf(ms)}`).join('\n')}`,
  );
  console.log('pairs/s vs the raw rate around the same round (%), and the median:');
  for (const size of sizes) {
    console.log(
      `  ${int(size)} proxies: ${pcts(paired.vsRaw.get(size) ?? [])}  median ${pct(paired.medians.get(size) ?? NaN)}`,
    );
  }
  for (const size of sizes) {
    const ratio = paired.medians.get(size) ?? NaN;
    console.log(
      `${int(size)} proxies: pairs/s ${pct(ratio)} of raw EVALSHA (target >= ${TARGET * 100}%: ` +
        `${ratio >= TARGET ? 'met' : 'missed'}; per-case medians without the pairing: ${pct(ofMedians.get(size) ?? NaN)})`,
    );
  }
  if (args.json) {
    const summary: ScenarioReport = {
      id: 'pool-lease',
      title: 'Proxy pool: lease+release pairs per second vs raw EVALSHA',
      command: 'node test/bench/pool-lease.ts',
      setup:
        `Lease+release pairs from one process against one Redis, ${concurrency} in flight, ${seconds} s per case, ` +
        `${roundCount} round(s) of every case in turn; rows show each case's median round, targets each pool's ` +
        `median ratio to the raw rate around the same round. Baseline: the same client's EVALSHA of \`return 1\` in the same run.`,
      columns: ['case', 'per second', 'vs raw EVALSHA', 'server µs lease / release'],
      rows: results.map((r) => [
        r.poolSize === undefined ? 'EVALSHA `return 1`' : `${int(r.poolSize)} proxies`,
        int(r.opsPerSec),
        r.poolSize === undefined ? '—' : pct(r.opsPerSec / rawRate),
        r.leaseUs === undefined ? '—' : `${r.leaseUs.toFixed(1)} / ${(r.releaseUs ?? NaN).toFixed(1)}`,
      ]),
      targets: sizes.map((size) => {
        const ratio = paired.medians.get(size) ?? NaN;
        return {
          what: `${int(size)} proxies: pairs/s vs raw EVALSHA`,
          target: `≥ ${TARGET * 100}%`,
          actual: pct(ratio),
          met: ratio >= TARGET,
        };
      }),
      quick: args.quick,
      machine: machine(version),
      raw: {
        concurrency,
        seconds,
        rawEvalshaPerSec: rawRate,
        pairsVsRaw: Object.fromEntries(paired.medians),
        vsRawPerRound: Object.fromEntries(paired.vsRaw),
        ofCaseMedians: Object.fromEntries(ofMedians),
        results,
      },
    };
    writeReports([summary], args.json);
    console.log(`wrote ${args.json}`);
  }
}

await main();
