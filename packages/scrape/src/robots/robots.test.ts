import { startMockSite, type MockSite } from '@switchyard/mock-upstream';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetGuard } from '../target-guard.ts';
import { TargetPolicy } from '../target-policy.ts';
import { fetchRobotsTxt } from './fetch-robots.ts';
import { RobotsCache } from './robots-cache.ts';
import { RobotsView } from './robots-entry.ts';

const ROBOTS = [
  'User-agent: Switchyard',
  'Crawl-delay: 2',
  'Disallow: /private/',
  'Allow: /private/open',
  '',
  'User-agent: *',
  'Disallow: /',
].join('\n');

let handle: RedisHandle;
let redis: Redis;
let site: MockSite;
const dispatcher = new Agent();
const guard = new TargetGuard({
  policy: new TargetPolicy({ allowCidrs: ['127.0.0.0/8'], allowPorts: 'any' }),
});

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
  site = await startMockSite({ host: '127.0.0.7', robotsTxt: ROBOTS });
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
  await site?.close();
  await dispatcher.close();
});

const fetchRobots = (maxBytes = 512_000) =>
  fetchRobotsTxt({
    origin: site.url,
    dispatcher,
    guard,
    userAgent: 'test-agent/1.0',
    timeoutMs: 5_000,
    maxBytes,
    signal: new AbortController().signal,
  });

describe('robots.txt (RFC 9309)', () => {
  it('matches the product token case-insensitively, longest rule first, with the Crawl-delay of its group', () => {
    const view = new RobotsView('https://example.com', { kind: 'rules', text: ROBOTS });
    expect(view.verdict('https://example.com/private/x', 'switchyard')).toEqual({ kind: 'disallowed' });
    expect(view.verdict('https://example.com/private/open', 'Switchyard')).toEqual({
      kind: 'allowed',
      crawlDelayMs: 2_000,
    });
    expect(view.verdict('https://example.com/blog', 'SWITCHYARD')).toMatchObject({ kind: 'allowed' });
    // Another product token falls to the * group, which disallows everything.
    expect(view.verdict('https://example.com/blog', 'OtherBot')).toEqual({ kind: 'disallowed' });
  });

  it('a 4xx answer allows everything; an unreachable robots.txt allows nothing until its time', () => {
    const open = new RobotsView('https://example.com', { kind: 'allow_all', status: 404 });
    expect(open.verdict('https://example.com/private/x', 'Switchyard')).toMatchObject({ kind: 'allowed' });
    const down = new RobotsView('https://example.com', { kind: 'unreachable', until: 42 });
    expect(down.verdict('https://example.com/', 'Switchyard')).toEqual({ kind: 'unreachable', until: 42 });
  });

  it('is fetched over real HTTP through the guard: 2xx rules, 404 allow-all, 5xx and 429 unreachable', async () => {
    site.clearRequestLog();
    expect(await fetchRobots()).toMatchObject({ kind: 'rules', text: ROBOTS });
    site.setRobotsTxt(null);
    expect(await fetchRobots()).toMatchObject({ kind: 'allow_all', status: 404 });
    site.setRobotsStatus(503);
    expect(await fetchRobots()).toMatchObject({ kind: 'unreachable', status: 503 });
    site.setRobotsStatus(null);
    site.setOutage({ status: 429, retryAfterSeconds: 7, count: 1 });
    expect(await fetchRobots()).toEqual({ kind: 'unreachable', status: 429, retryAfterMs: 7_000 });
    site.setRobotsTxt(ROBOTS);
    expect(site.requestLog().map((r) => r.path)).toEqual(Array(4).fill('/robots.txt'));
  });

  it('calls beforeSend (the host start report) after the guard and before the request reaches the site', async () => {
    const before = site.requestLog().length;
    let seenAtReport = -1;
    const fetched = await fetchRobotsTxt({
      origin: site.url,
      dispatcher,
      guard,
      userAgent: 'test-agent/1.0',
      timeoutMs: 5_000,
      maxBytes: 512_000,
      signal: new AbortController().signal,
      beforeSend: () => {
        seenAtReport = site.requestLog().length;
      },
    });
    expect(fetched.kind).toBe('rules');
    expect(seenAtReport).toBe(before);
    expect(site.requestLog()).toHaveLength(before + 1);
  });

  it('reads only the first maxBytes of a large robots.txt', async () => {
    const fetched = await fetchRobots(40);
    expect(fetched).toMatchObject({ kind: 'rules', text: ROBOTS.slice(0, 40), bytes: 40 });
  });

  it('is cached in Redis for the fleet: another process reads it without fetching', async () => {
    const opts = { redis, prefix: `${handle.prefix}-robots`, ttlSeconds: 60 };
    const one = new RobotsCache(opts);
    const other = new RobotsCache(opts);
    expect(await one.get(site.url)).toBeUndefined();
    await one.put(site.url, { kind: 'rules', text: ROBOTS });
    const seen = await other.get(site.url);
    expect(seen?.verdict(`${site.url}/private/x`, 'Switchyard')).toEqual({ kind: 'disallowed' });
    const ttl = await redis.pttl(`${handle.prefix}-robots:robots:${site.url}`);
    expect(ttl).toBeGreaterThan(55_000);
    // An unreachable entry lives until its own time only.
    await one.put('https://down.example', { kind: 'unreachable', until: Date.now() + 300 });
    expect((await other.get('https://down.example'))?.entry.kind).toBe('unreachable');
    await new Promise((r) => setTimeout(r, 350));
    expect(await new RobotsCache(opts).get('https://down.example')).toBeUndefined();
  });
});
