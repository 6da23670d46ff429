import { loadConfig } from '@switchyard/config';
import { createLogger } from '@switchyard/telemetry';
import { Redis } from 'ioredis';
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
