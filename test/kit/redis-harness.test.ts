import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis } from './redis-harness.ts';

describe('redis harness', () => {
  it('a dedicated instance can be killed and restarted on the same port', async () => {
    const r = await startRedis({ dedicated: true });
    const c = new Redis(r.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    c.on('error', () => undefined);
    try {
      await c.set('k', 'v');
      await r.kill();
      await expect(c.ping()).rejects.toThrow();
      await r.restart();
      await expect(c.ping()).resolves.toBe('PONG');
      expect(await c.get('k')).toBeNull();
    } finally {
      c.disconnect();
      await r.stop();
    }
  });

  it('a dedicated instance can be paused (commands hang, the connection stays up) and resumed', async () => {
    const r = await startRedis({ dedicated: true });
    const c = new Redis(r.url, { maxRetriesPerRequest: 1, commandTimeout: 300 });
    c.on('error', () => undefined);
    try {
      await c.set('k', 'v');
      await r.pause();
      await expect(c.get('k')).rejects.toThrow(/timed out/i);
      await r.resume();
      expect(await c.get('k')).toBe('v');
      await r.pause(); // stop() works on a paused server too
    } finally {
      c.disconnect();
      await r.stop();
    }
  });

  it('shared handles get distinct key prefixes', async () => {
    const a = await startRedis();
    const b = await startRedis();
    expect(a.prefix).not.toBe(b.prefix);
    expect(a.url).toBe(b.url);
  });
});
