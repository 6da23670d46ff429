import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairShare } from './fair-share.ts';

/**
 * The fair share's Redis work per job against the number of tenants with a backlog: the same
 * 10,000 held batch jobs spread over 10, 1,000 and 10,000 tenants, refilled until none is held.
 * Work is what Redis itself counts (INFO commandstats): commands run per job, and the server time
 * of the refill scripts per job. Its own Redis: the counts are server-wide.
 */
const JOBS = 10_000;
const BUFFER = 100;

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis({ dedicated: true });
  redis = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

interface Work {
  tenants: number;
  commandsPerJob: number;
  usecPerJob: number;
}

/** Sum of `calls` of every command but the harness's own, and `usec` of the scripts (EVALSHA/EVAL). */
async function commandStats(): Promise<{ calls: number; scriptUsec: number }> {
  const info = await redis.info('commandstats');
  let calls = 0;
  let scriptUsec = 0;
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, cmd = '', c = '0', u = '0'] = m;
    if (['info', 'config|resetstat', 'del', 'ping', 'client|setinfo', 'select'].includes(cmd)) continue;
    if (cmd === 'evalsha' || cmd === 'eval') scriptUsec += Number(u);
    else calls += Number(c);
  }
  return { calls, scriptUsec };
}

async function measure(tenants: number): Promise<Work> {
  const prefix = `s${tenants}`;
  const fair = new FairShare({ redis, prefix });
  const queue = new Queue('{batch}', { connection: redis, prefix });
  const perTenant = JOBS / tenants;
  const ids = Array.from({ length: JOBS }, (_, i) => `t${i % tenants}-${Math.floor(i / tenants)}`);
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addBulk(
      ids
        .slice(i, i + 1000)
        .map((jobId) => ({ name: 'x', data: {}, opts: { jobId, delay: 3_600_000, priority: 5 } })),
    );
  }
  for (let t = 0; t < tenants; t += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, tenants - t) }, (_, k) =>
        fair.hold(
          `t${t + k}`,
          Array.from({ length: perTenant }, (_, j) => ({
            jobId: `t${t + k}-${j}`,
            priority: 5,
            at: 1_000 + j,
          })),
        ),
      ),
    );
  }
  // Warm the script cache, then count from zero.
  await fair.refill(queue, 0);
  await redis.config('RESETSTAT');
  let moved = 0;
  for (;;) {
    const r = await fair.refill(queue, BUFFER);
    moved += r.moved;
    // The workers take what was made ready (not counted: the harness's DEL).
    await redis.del(queue.toKey('wait'), queue.toKey('prioritized'));
    if (!r.held) break;
  }
  expect(moved).toBe(JOBS);
  const { calls, scriptUsec } = await commandStats();
  await queue.close();
  return { tenants, commandsPerJob: calls / JOBS, usecPerJob: scriptUsec / JOBS };
}

describe('fair share at scale', () => {
  it('Redis work per job does not grow with the number of tenants (10, 1,000, 10,000 backlogs)', async () => {
    const runs: Work[] = [];
    for (const n of [10, 1_000, 10_000]) runs.push(await measure(n));
    console.log(
      runs
        .map(
          (r) =>
            `${r.tenants} tenants: ${r.commandsPerJob.toFixed(2)} commands, ${r.usecPerJob.toFixed(2)} µs per job`,
        )
        .join('\n'),
    );
    const [few, , many] = runs as [Work, Work, Work];
    for (const r of runs) {
      // The same commands per job, plus what a tenant costs once when its backlog empties (one more
      // LMOVE and ZPOPMIN finding it empty, an LREM and an SREM)...
      expect(r.commandsPerJob).toBeLessThanOrEqual(few.commandsPerJob + (4 * r.tenants) / JOBS + 0.1);
      // ...and no command whose cost grows with the ring: server time per job stays within a
      // small factor (generous: server time varies on a loaded machine; a scan of the ring per
      // emptied tenant costs tens of times more at 10,000 tenants).
      expect(r.usecPerJob).toBeLessThan(few.usecPerJob * 3 + 5);
    }
    expect(many.tenants).toBe(10_000);
  }, 180_000);
});
