import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerRedisUp, type RedisProbe } from './redis-up.ts';

async function scrape(redis: RedisProbe): Promise<string> {
  const registry = new Registry();
  registerRedisUp(registry, redis);
  return registry.metrics();
}

describe('switchyard_redis_up', () => {
  it('is 1 when the connection is ready and answers PING', async () => {
    expect(await scrape({ status: 'ready', ping: () => Promise.resolve('PONG') })).toContain(
      'switchyard_redis_up 1',
    );
  });

  it('is 0 while reconnecting, without sending a PING', async () => {
    let pinged = false;
    const text = await scrape({
      status: 'reconnecting',
      ping: () => {
        pinged = true;
        return Promise.resolve('PONG');
      },
    });
    expect(text).toContain('switchyard_redis_up 0');
    expect(pinged).toBe(false);
  });

  it('is 0 when PING fails or hangs past a second, and the scrape still answers', async () => {
    expect(await scrape({ status: 'ready', ping: () => Promise.reject(new Error('LOADING')) })).toContain(
      'switchyard_redis_up 0',
    );
    const started = Date.now();
    expect(await scrape({ status: 'ready', ping: () => new Promise(() => undefined) })).toContain(
      'switchyard_redis_up 0',
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
