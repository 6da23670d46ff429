import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { measureClockOffset, runOnFleetClock } from './fleet-clock.ts';

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});
afterEach(() => vi.restoreAllMocks());

async function serverNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('the fleet clock', () => {
  for (const skewMs of [30_000, -30_000]) {
    it(`puts a process whose clock is ${skewMs > 0 ? 'ahead' : 'behind'} by 30 s on the Redis server's time, and gives the clock back`, async () => {
      const real = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => real() + skewMs);
      expect(Math.abs((await measureClockOffset(redis, Date.now)) + skewMs)).toBeLessThan(200);
      const skews: number[] = [];
      const clock = await runOnFleetClock(redis, { onSkew: (ms) => skews.push(ms) });
      try {
        expect(Math.abs(Date.now() - (await serverNow()))).toBeLessThan(200);
        expect(Math.abs(clock.offsetMs() + skewMs)).toBeLessThan(200);
        expect(skews).toHaveLength(1);
      } finally {
        clock.stop();
      }
      expect(Math.abs(Date.now() - (await serverNow()) - skewMs)).toBeLessThan(200);
    });
  }
});
