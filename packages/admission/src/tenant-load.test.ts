import { SwitchyardError } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionKeys, type AdmissionKeys } from './keys.ts';
import { TenantLoad } from './tenant-load.ts';

let handle: RedisHandle;
let redis: Redis;
let keys: AdmissionKeys;
let load: TenantLoad;
const later = () => Date.now() + 60_000;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  keys = admissionKeys(handle.prefix);
  load = new TenantLoad({ redis, prefix: handle.prefix, limits: { maxJobsInFlight: 5, maxJobsQueued: 3 } });
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SwitchyardError)) throw new Error(`expected a refusal, got ${String(err)}`);
  expect(err.status).toBe(429);
  expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  return err.code;
}

describe('tenant load (tenant-load-admit-2.lua, tenant-load-start-2.lua)', () => {
  it('admits up to the queued limit; a started job makes room in the queue but not in flight', async () => {
    await load.admit('a', ['j1', 'j2', 'j3'], later());
    expect(await refusal(load.admit('a', ['j4'], later()))).toBe('too_many_jobs_queued');
    await load.started('a', 'j1');
    await load.started('a', 'j1'); // twice is once
    expect(await load.counts('a')).toEqual({ inFlight: 3, queued: 2 });
    await load.admit('a', ['j4'], later());
    await load.started('a', 'j2');
    await load.started('a', 'j3');
    await load.admit('a', ['j5'], later());
    // 5 in flight (3 running, 2 queued): the in-flight limit answers first.
    expect(await refusal(load.admit('a', ['j6'], later()))).toBe('too_many_jobs_in_flight');
    await load.finished('a', ['j1']);
    await load.admit('a', ['j6'], later());
    expect(await load.counts('a')).toEqual({ inFlight: 5, queued: 3 });
    // Other tenants are counted apart.
    await load.admit('b', ['j1'], later());
    expect(await load.counts('b')).toEqual({ inFlight: 1, queued: 1 });
  });

  it('admits all or none, and a repeated admission takes no new room', async () => {
    await load.admit('c', ['x1', 'x2'], later());
    expect(await refusal(load.admit('c', ['x3', 'x4'], later()))).toBe('too_many_jobs_queued');
    expect(await load.counts('c')).toEqual({ inFlight: 2, queued: 2 });
    await load.admit('c', ['x1', 'x2'], later());
    await load.admit('c', ['x3'], later());
    // Full now, yet admitting an id already counted still succeeds.
    await load.admit('c', ['x3'], later());
    // With no ids: only a check that there is room for one more.
    expect(await refusal(load.admit('c', [], Date.now()))).toBe('too_many_jobs_queued');
    await load.finished('c', ['x1']);
    await load.admit('c', [], Date.now());
    expect(await load.counts('c')).toEqual({ inFlight: 2, queued: 2 });
  });

  it('an entry stops counting at its expiry, so a crashed process cannot hold room for ever', async () => {
    await load.admit('d', ['old1', 'old2', 'old3'], Date.now() + 300);
    expect(await refusal(load.admit('d', ['new'], later()))).toBe('too_many_jobs_queued');
    await new Promise((r) => setTimeout(r, 400));
    await load.admit('d', ['new'], later());
    expect(await load.counts('d')).toEqual({ inFlight: 1, queued: 1 });
    // Expired entries are pruned from Redis, not only ignored.
    expect(await redis.zcard(keys.tenantLoad('d').open)).toBe(1);
  });

  it('a start for a job it never admitted changes nothing; tracked jobs bypass the limits', async () => {
    await load.started('e', 'unknown');
    expect(await redis.exists(keys.tenantLoad('e').started)).toBe(0);
    await load.track('e', ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'], later());
    expect(await load.counts('e')).toEqual({ inFlight: 6, queued: 6 });
    await load.finished('e', ['b1', 'b2', 'b3', 'b4', 'b5', 'b6']);
    expect(await redis.exists(keys.tenantLoad('e').open)).toBe(0);
  });

  it('a large tracked chunk counts each of its jobs once, a replay of part of it nothing more', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `big${i}`);
    await load.track('g', ids, later());
    await load.track('g', [...ids.slice(900, 1100), 'big-new'], later());
    expect(await load.counts('g')).toEqual({ inFlight: 2501, queued: 2501 });
  });

  it('with both limits off it does no Redis work at all', async () => {
    const off = new TenantLoad({
      redis,
      prefix: handle.prefix,
      limits: { maxJobsInFlight: 0, maxJobsQueued: 0 },
    });
    for (let i = 0; i < 10; i++) await off.admit('f', [`j${i}`], later());
    await off.track('f', ['t1'], later());
    expect(await redis.exists(keys.tenantLoad('f').open)).toBe(0);
  });
});
