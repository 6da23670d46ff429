import { Redis } from 'ioredis';
import { startRedis } from '@switchyard/test-kit';
import { Ledger } from './ledger.ts';
import type { AttemptEntry, LedgerOptions } from './types.ts';

export interface TestLedger {
  ledger: Ledger;
  redis: Redis;
  /** The ledger's key prefix (unique to this handle), for more clients over the same keys. */
  prefix: string;
  url: string;
  /** Every key this ledger has written, sorted. */
  allKeys(): Promise<string[]>;
  close(): Promise<void>;
}

/** A ledger on the shared test Redis under a fresh key prefix. */
export async function openTestLedger(
  overrides: Partial<Omit<LedgerOptions, 'redis' | 'prefix'>> = {},
): Promise<TestLedger> {
  const handle = await startRedis();
  const redis = new Redis(handle.url);
  const ledger = new Ledger({ redis, prefix: handle.prefix, entryTtlSeconds: 7 * 86_400, ...overrides });
  return {
    ledger,
    redis,
    prefix: handle.prefix,
    url: handle.url,
    async allKeys() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${handle.prefix}:*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return keys.sort();
    },
    async close() {
      redis.disconnect();
      await handle.stop();
    },
  };
}

/** 2024-03-10T12:00:00Z */
export const NOON = Date.UTC(2024, 2, 10, 12);

export function entry(over: Partial<AttemptEntry> = {}): AttemptEntry {
  return {
    jobId: 'job-1',
    attempt: 1,
    tenantId: 'acme',
    lane: 'interactive',
    kind: 'completion',
    provider: 'openai',
    model: 'gpt-4o-mini',
    proxyId: null,
    outcome: 'ok',
    interrupted: false,
    latencyMs: 850,
    inputTokens: 1200,
    outputTokens: 300,
    bytes: 0,
    costNanos: 360_000,
    at: NOON,
    ...over,
  };
}

export function scrape(over: Partial<AttemptEntry> = {}): AttemptEntry {
  return entry({
    kind: 'scrape',
    provider: null,
    model: null,
    proxyId: 'dc-1',
    inputTokens: 0,
    outputTokens: 0,
    bytes: 250_000,
    costNanos: 125_000,
    ...over,
  });
}
