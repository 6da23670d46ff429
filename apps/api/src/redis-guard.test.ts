import { SwitchyardError } from '@switchyard/contracts';
import { LedgerError } from '@switchyard/ledger';
import { ProxyPoolError } from '@switchyard/proxy-pool';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis, ReplyError } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from './errors.ts';
import { installRedisGuard } from './redis-guard.ts';

let handle: RedisHandle;
let redis: Redis;
let app: FastifyInstance;

/** A route per kind of failure a handler can meet. */
const failures: Record<string, () => Promise<unknown>> = {
  'redis-reply': () => redis.call('NO-SUCH-COMMAND'),
  // What Redis answers a write when it is full under noeviction, alone and inside MULTI.
  'redis-full': async () => {
    throw new ReplyError("OOM command not allowed when used memory > 'maxmemory'.");
  },
  'redis-full-multi': async () => {
    throw new ReplyError('EXECABORT Transaction discarded because of: OOM command not allowed');
  },
  'not-found': async () => {
    throw new SwitchyardError('not_found', 'no such thing');
  },
  'bad-usage-range': async () => {
    throw new LedgerError('LEDGER_INVALID_QUERY', 'from 2024-03-11 is after to 2024-03-10');
  },
  'bad-proxy': async () => {
    throw new ProxyPoolError('PROXY_POOL_UNSUPPORTED_PROTOCOL', 'ftp://');
  },
  'a-bug': async () => {
    throw new TypeError('x is undefined');
  },
};

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url, { lazyConnect: true });
  await redis.connect();
  app = Fastify();
  installErrorHandling(app);
  installRedisGuard(app, redis);
  for (const [name, fail] of Object.entries(failures)) app.get(`/v1/${name}`, fail);
  app.get('/v1/hooked', { preHandler: async () => redis.call('NO-SUCH-COMMAND') }, async () => 'never');
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await handle?.stop();
});

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, code: (res.json<{ code?: string }>() ?? {}).code, headers: res.headers };
};

describe('the Redis guard (every /v1 route)', () => {
  it.each([
    ['/v1/redis-reply', 503, 'redis_unavailable'],
    ['/v1/hooked', 503, 'redis_unavailable'],
    ['/v1/redis-full', 503, 'storage_full'],
    ['/v1/redis-full-multi', 503, 'storage_full'],
    ['/v1/not-found', 404, 'not_found'],
    ['/v1/bad-usage-range', 400, 'validation_failed'],
    ['/v1/bad-proxy', 400, 'validation_failed'],
    ['/v1/a-bug', 500, 'internal_error'],
  ])('%s answers %i %s', async (url, status, code) => {
    const res = await get(url);
    expect(res).toMatchObject({ status, code });
    if (status === 503) expect(res.headers['retry-after']).toBe(code === 'storage_full' ? '5' : '1');
  });

  it('answers 503 at once while its client is not connected, but never outside /v1', async () => {
    const offline = new Redis(handle.url, { lazyConnect: true, enableOfflineQueue: false });
    const down = Fastify();
    installErrorHandling(down);
    installRedisGuard(down, offline);
    down.get('/v1/ping', async () => offline.ping());
    down.get('/healthz', async () => ({ status: 'ok' }));
    try {
      const ping = await down.inject({ method: 'GET', url: '/v1/ping' });
      expect(ping.statusCode).toBe(503);
      expect(ping.json()).toMatchObject({ code: 'redis_unavailable' });
      expect((await down.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await down.close();
      offline.disconnect();
    }
  });
});
