import { loadConfig } from '@switchyard/config';
import { createLogger } from '@switchyard/telemetry';
import { Redis } from 'ioredis';
import { startRedis } from '@switchyard/test-kit';
import { describe, expect, it } from 'vitest';
import { ScrapePoliteness, type RobotsAnswer } from './politeness.ts';

const scrape = loadConfig({
  env: {},
  defaults: { scrape: { perHost: { minIntervalMs: 500, maxDelayMs: 10_000 } } },
}).scrape;
// No command is sent: the client never connects.
const redis = new Redis({ lazyConnect: true });
const politeness = new ScrapePoliteness({
  redis,
  prefix: 'sy',
  scrape,
  leaseMarginMs: 5_000,
  logger: createLogger({ name: 'test', level: 'silent' }),
});

const cases: [string, RobotsAnswer, number][] = [
  ['no Crawl-delay: the configured interval', { kind: 'allowed', crawlDelayMs: undefined }, 500],
  ['a Crawl-delay longer than the interval raises it', { kind: 'allowed', crawlDelayMs: 2_000 }, 2_000],
  ['a Crawl-delay shorter than the interval does not lower it', { kind: 'allowed', crawlDelayMs: 100 }, 500],
  ['a Crawl-delay is capped by maxDelayMs', { kind: 'allowed', crawlDelayMs: 3_600_000 }, 10_000],
  ['robots.txt not known yet: the configured interval', { kind: 'unknown' }, 500],
  ['a tenant exempt from robots.txt: the configured interval', { kind: 'exempt' }, 500],
];

describe('ScrapePoliteness.intervalMs', () => {
  it.each(cases)('%s', (_name, answer, expected) => {
    expect(politeness.intervalMs(answer)).toBe(expected);
  });
});

describe('ScrapePoliteness: one robots.txt fetch per origin for the fleet', () => {
  it('one job claims the fetch; others are refused until the verdict is stored or the claim ends', async () => {
    const handle = await startRedis();
    const live = new Redis(handle.url);
    const p = new ScrapePoliteness({
      redis: live,
      prefix: handle.prefix,
      scrape,
      leaseMarginMs: 5_000,
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
    const origin = 'http://127.0.0.9:8080';
    try {
      expect(await p.claimRobotsFetch(origin, 'job-1')).toBe(true);
      expect(await p.claimRobotsFetch(origin, 'job-2')).toBe(false);
      await p.store(origin, { kind: 'allow_all', status: 404, bytes: 0 });
      expect(await p.claimRobotsFetch(origin, 'job-3')).toBe(true);
      await p.endRobotsFetch(origin);
      expect(await p.claimRobotsFetch(origin, 'job-4')).toBe(true);
      // Another origin is claimed on its own.
      expect(await p.claimRobotsFetch('http://127.0.0.10:8080', 'job-5')).toBe(true);
      // A claim whose job died ends by itself, after a scrape's timeout and the lease margin.
      const ttl = await live.pttl(`${handle.prefix}:robots-fetch:${origin}`);
      expect(ttl).toBeGreaterThan(scrape.timeoutMs);
      expect(ttl).toBeLessThanOrEqual(scrape.timeoutMs + 5_000);
    } finally {
      live.disconnect();
      await handle.stop();
    }
  });
});
