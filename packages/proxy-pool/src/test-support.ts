import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { vi } from 'vitest';
import { startRedis } from '@switchyard/test-kit';
import type { ProxyPoolOptions } from './options.ts';
import { ProxyPool } from './proxy-pool.ts';
import { loadScripts } from './scripts.ts';
import type { Lease, LeaseRequest, LeaseResult, ProxySpec } from './types.ts';

/** A clock tests move by hand; the pool's scripts run on it instead of the Redis server's. */
export interface TestClock {
  now: () => number;
  advance: (ms: number) => void;
}

export function testClock(start = 1_700_000_000_000): TestClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface TestPool {
  pool: ProxyPool;
  /** The pool's key prefix, for a second pool instance over the same keys. */
  prefix: string;
  redis: Redis;
  clock: TestClock;
  close(): Promise<void>;
}

/** A pool on the shared test Redis under a fresh key prefix, on a hand-moved clock, no jitter. */
export async function openTestPool(
  overrides: Partial<Omit<ProxyPoolOptions, 'redis'>> = {},
): Promise<TestPool> {
  const handle = await startRedis();
  const redis = new Redis(handle.url);
  const clock = testClock();
  const pool = new ProxyPool({
    redis,
    prefix: handle.prefix,
    now: clock.now,
    random: () => 0.5,
    jitter: 0,
    ...overrides,
  });
  return {
    pool,
    prefix: handle.prefix,
    redis,
    clock,
    async close() {
      redis.disconnect();
      await handle.stop();
    },
  };
}

export function proxySpec(id: string, over: Partial<ProxySpec> = {}): ProxySpec {
  return {
    id,
    url: `http://user:secret-${id}@127.0.0.1:3128`,
    tags: [],
    maxConcurrency: 10,
    pricePerGbUsd: 1,
    ...over,
  };
}

export function assertLease(r: LeaseResult): Lease {
  if (r.exhausted) throw new Error(`expected a lease, got exhausted (${r.reason}, ${r.retryAfterMs} ms)`);
  return r;
}

export async function leaseOk(pool: ProxyPool, req: LeaseRequest): Promise<Lease> {
  return assertLease(await pool.lease(req));
}

export const interactive = (host: string, extra: Partial<LeaseRequest> = {}): LeaseRequest => ({
  lane: 'interactive',
  host,
  ...extra,
});

/** A proxy's score in its availability sets, written out independently of the Lua that computes
 * it (lua/includes/availability.lua): utilisation in millionths (capped at 1,000,000), its max and
 * its in-flight count, packed as (utilisation * 2^14 + max) * 2^14 + inflight. */
export function availabilityScore(inflight: number, max: number): string {
  const utilisation = Math.min(1_000_000, Math.floor((inflight * 1_000_000) / max));
  return String((utilisation * 16384 + max) * 16384 + inflight);
}

/** The proxies of an availability set and their scores (as Redis answers them). */
export async function proxyScores(redis: Redis, key: string): Promise<Record<string, string>> {
  const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
  return Object.fromEntries(flat.flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]!]])));
}

const sha = (name: string) =>
  createHash('sha1')
    .update(loadScripts().get(name)?.lua ?? '')
    .digest('hex');

/** Which pool scripts a client runs, by name, in order (EVALSHA, or EVAL on the first use). */
export function scriptCalls(redis: Redis): { names: string[]; restore: () => void } {
  const byDigest = new Map([...loadScripts().keys()].map((name) => [sha(name), name]));
  const byLua = new Map([...loadScripts().values()].map((s) => [s.lua, s.name]));
  const names: string[] = [];
  const spy = vi.spyOn(redis, 'sendCommand');
  spy.mockImplementation(function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    const [command] = args;
    const first = String(command.args[0]);
    if (command.name === 'evalsha') names.push(byDigest.get(first) ?? first);
    else if (command.name === 'eval') names.push(byLua.get(first) ?? 'eval');
    return Redis.prototype.sendCommand.apply(this, args);
  });
  return { names, restore: () => spy.mockRestore() };
}
