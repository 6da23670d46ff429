import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, isReady, whenReady } from './connection.ts';

let handle: RedisHandle;

beforeAll(async () => {
  handle = await startRedis({ dedicated: true });
});
afterAll(async () => {
  await handle?.resume().catch(() => undefined);
  await handle?.stop();
});

describe('an api connection to a hung Redis', () => {
  it('waits out one command timeout, then fails every command at once until Redis answers again', async () => {
    const redis = createRedis(handle.url, { role: 'api', name: 'sy-test-api' });
    try {
      await whenReady(redis, 5_000);
      await redis.set('k', 'v');
      await handle.pause();
      const first = Date.now();
      await expect(redis.get('k')).rejects.toThrow(/timed out/);
      expect(Date.now() - first).toBeGreaterThanOrEqual(1_900);
      // The connection was dropped: not ready, so the API answers 503 without sending anything,
      // and a command sent anyway fails at once instead of waiting out a timeout of its own.
      const dropped = Date.now();
      while (isReady(redis) && Date.now() - dropped < 200) await new Promise((r) => setTimeout(r, 5));
      expect(isReady(redis)).toBe(false);
      const second = Date.now();
      await expect(redis.get('k')).rejects.toThrow();
      expect(Date.now() - second).toBeLessThan(500);
      await handle.resume();
      await whenReady(redis, 10_000);
      expect(await redis.get('k')).toBe('v');
    } finally {
      redis.disconnect();
    }
  });
});
