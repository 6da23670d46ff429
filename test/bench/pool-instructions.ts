/**
 * Redis's own work per lease+release pair, in instructions: redis-server runs under valgrind's
 * callgrind, which counts instructions, not seconds, so the numbers repeat run to run whatever else
 * the machine is doing (pool-lease.ts's rates move by ±10% and more between rounds on a shared
 * VM). For pools of 10, 100, 1,000 and 10,000 proxies it drives a fixed number of pairs with the
 * same concurrency as pool-lease.ts and reads the server's instruction count around them, next to
 * the count for an EVALSHA of `return 1`. The pools' once-a-second send of release counts
 * (count-1.lua) is left out of the counts.
 *
 *   node test/bench/pool-instructions.ts [--pairs 6400] [--concurrency 64]
 *       [--sizes 10,100,1000,10000] [--tags dc] [--config name=value ...] [--redis-server PATH] [--keep]
 *
 * It also counts leases and releases apart (batches of leases, then their releases). --tags makes
 * every lease a constrained one (the bench pools' proxies are all tagged `dc`): the path that
 * reads a tag's set. --config sets a Redis option before the pools are made (e.g.
 * zset-max-listpack-entries=0). --keep leaves
 * the callgrind dumps (one per measurement, in order) for callgrind_annotate, to see where the
 * instructions go; Debian's redis-server is stripped, so point --redis-server at a build with
 * symbols for that.
 *
 * Needs valgrind. A program that prints numbers; it asserts nothing. Not part of `pnpm bench`:
 * under valgrind Redis runs ~50× slower, so it says how much work a pair is, not how fast.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '@switchyard/test-kit';
import type { ProxyPool } from '@switchyard/proxy-pool';
import { setupBenchPool } from './pool-setup.ts';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '6400' },
    concurrency: { type: 'string', default: '64' },
    // 100: under Redis's listpack limit (128 entries)
    sizes: { type: 'string', default: '10,100,1000,10000' },
    keep: { type: 'boolean', default: false },
    'redis-server': { type: 'string', default: 'redis-server' },
    config: { type: 'string', multiple: true, default: [] },
    tags: { type: 'string', default: '' },
  },
});
const pairs = Number(args.pairs);
const concurrency = Number(args.concurrency);
const sizes = args.sizes.split(',').map(Number);
const tags = args.tags ? args.tags.split(',') : [];
const leaseRequest = { lane: 'interactive', host: 'api.example.com', tags } as const;

const dir = mkdtempSync(join(tmpdir(), 'sy-callgrind-'));
const port = await freePort();
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    `--callgrind-out-file=${join(dir, 'cg.out')}`,
    args['redis-server'],
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    // fewer of serverCron's background ticks in the counts
    '--hz',
    '1',
  ],
  { stdio: 'ignore' },
);
const url = `redis://127.0.0.1:${port}`;

let dumps = 0;
/** Instructions the server ran since the last call (callgrind_control zeroes, then dumps). */
function control(cmd: '-z' | '-d'): void {
  execFileSync('callgrind_control', [cmd, String(server.pid)], { stdio: 'ignore' });
}
function instructionsSinceZero(): number {
  control('-d');
  dumps++;
  const file = readdirSync(dir).find((f) => f.endsWith(`.${dumps}`));
  const text = readFileSync(join(dir, file ?? 'missing'), 'utf8');
  const m = /^summary: (\d+)/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

async function count(op: () => Promise<unknown>, total: number): Promise<number> {
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        await op();
      }
    }),
  );
  return total;
}

async function measure(op: () => Promise<unknown>, total: number, pool?: ProxyPool): Promise<number> {
  await count(op, Math.min(total, 640)); // warm: scripts loaded, sets in their steady state
  await pool?.flush();
  control('-z');
  await count(op, total);
  return instructionsSinceZero() / total;
}

/** Instructions per lease and per release apart: batches of `concurrency` leases (coalesced into
 * calls of up to 32), then their releases, with a dump between. */
async function leaseThenRelease(pool: ProxyPool): Promise<[number, number]> {
  let leaseIr = 0;
  let releaseIr = 0;
  let n = 0;
  await pool.flush();
  for (let batch = 0; batch < 20; batch++) {
    control('-z');
    const leases = await Promise.all(Array.from({ length: concurrency }, () => pool.lease(leaseRequest)));
    leaseIr += instructionsSinceZero();
    control('-z');
    await Promise.all(
      leases.flatMap((l) => (l.exhausted ? [] : [pool.release(l, { outcome: 'ok', bytes: 2048 })])),
    );
    releaseIr += instructionsSinceZero();
    n += leases.length;
  }
  return [leaseIr / n, releaseIr / n];
}

try {
  for (let i = 0; ; i++) {
    try {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      if (i > 100) throw new Error('redis-server under valgrind did not start');
      await sleep(200);
    }
  }
  const redis = new Redis(url);
  for (const c of args.config) {
    const [k, v] = c.split('=');
    await redis.config('SET', k!, v!);
  }
  redis.defineCommand('benchReturnOne', { lua: 'return 1', numberOfKeys: 1 });
  const returnOne = () =>
    (Reflect.get(redis, 'benchReturnOne') as (key: string) => Promise<number>).call(redis, 'bench:{pool}:x');
  const rows: [string, number][] = [['EVALSHA return 1', await measure(returnOne, pairs)]];
  const split: [number, number, number][] = [];
  for (const size of sizes) {
    // release counts go to Redis once a second of wall time, and under valgrind a second holds
    // ~50 times fewer pairs than it would: they are sent outside the counted stretches (at the
    // real rate, a send a second is well under 1% of Redis's work)
    const pool: ProxyPool = await setupBenchPool(redis, size, concurrency, { statsFlushMs: 3_600_000 });
    const pair = async () => {
      const lease = await pool.lease(leaseRequest);
      if (!lease.exhausted) await pool.release(lease, { outcome: 'ok', bytes: 2048 });
    };
    rows.push([`lease+release, ${size.toLocaleString('en')} proxies`, await measure(pair, pairs, pool)]);
    split.push([size, ...(await leaseThenRelease(pool))]);
  }
  redis.disconnect();
  const raw = rows[0]![1];
  console.log(`\nRedis instructions per operation (callgrind), ${pairs} ops each, ${concurrency} in flight`);
  for (const [name, n] of rows) {
    console.log(
      `${name.padEnd(32)} ${Math.round(n).toLocaleString('en').padStart(10)}  ${(n / raw).toFixed(2)}× raw`,
    );
  }
  const fmt = (n: number, w: number) => Math.round(n).toLocaleString('en').padStart(w);
  console.log('\nper lease and per release apart (batches of leases, then their releases)');
  for (const [size, l, r] of split) {
    console.log(
      `${`${size.toLocaleString('en')} proxies`.padEnd(32)} lease ${fmt(l, 8)}  release ${fmt(r, 8)}`,
    );
  }
} finally {
  server.kill('SIGTERM');
  await sleep(500);
  if (args.keep) console.log(`callgrind dumps (one per measurement, in order) kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
