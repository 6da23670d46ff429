import { ScrapeRequestSchema, type ScrapeResult } from '@switchyard/contracts';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScrapeCache, scrapeCacheKeys } from './scrape-cache.ts';

let handle: RedisHandle;
let redis: Redis;
let cache: ScrapeCache;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  cache = new ScrapeCache({ redis, prefix: handle.prefix, maxTtlSeconds: 300 });
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

const req = (over: Record<string, unknown> = {}) =>
  ScrapeRequestSchema.parse({ url: 'https://example.com/a', max_age_s: 60, ...over });
const result = (over: Partial<ScrapeResult> = {}): ScrapeResult => ({
  type: 'scrape',
  url: 'https://example.com/a',
  status: 200,
  content_type: 'text/html',
  markdown: '# A',
  content_hash: `sha256:${'a'.repeat(64)}`,
  bytes: 10,
  unchanged: false,
  cached: false,
  etag: null,
  last_modified: null,
  ...over,
});

describe('ScrapeCache (max_age_s reuse)', () => {
  it('returns a stored result within the request’s max_age_s, and nothing older', async () => {
    const now = Date.now();
    await cache.put('t-age', req(), result(), now - 30_000);
    expect(await cache.get('t-age', req(), now)).toEqual(result());
    expect(await cache.get('t-age', req({ max_age_s: 10 }), now)).toBeUndefined();
  });

  it('is per tenant and per scrape identity (formats)', async () => {
    await cache.put('t-a', req(), result());
    expect(await cache.get('t-b', req())).toBeUndefined();
    expect(await cache.get('t-a', req({ formats: ['text'] }))).toBeUndefined();
    expect(await cache.get('t-a', req({ formats: ['markdown'] }))).toEqual(result());
  });

  it('stores only full 2xx results of requests that ask for reuse, each for maxTtlSeconds', async () => {
    await cache.put(
      't-skip',
      req({ url: 'https://example.com/304' }),
      result({ status: 304, unchanged: true }),
    );
    await cache.put('t-skip', req({ url: 'https://example.com/same' }), result({ unchanged: true }));
    await cache.put('t-skip', req({ url: 'https://example.com/404' }), result({ status: 404 }));
    await cache.put('t-skip', req({ url: 'https://example.com/no-age', max_age_s: undefined }), result());
    expect(await redis.keys(scrapeCacheKeys(handle.prefix).entry('t-skip', '*'))).toEqual([]);
    await cache.put('t-ttl', req(), result());
    const [key] = await redis.keys(scrapeCacheKeys(handle.prefix).entry('t-ttl', '*'));
    const ttl = await redis.ttl(key ?? '');
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('a request without max_age_s never reads the store', async () => {
    await cache.put('t-read', req(), result());
    expect(await cache.get('t-read', req({ max_age_s: undefined }))).toBeUndefined();
  });
});
