import type { FailureRecord } from '@switchyard/contracts';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureLog, groupFailures } from './failure-log.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(url);
});
afterAll(() => {
  redis?.disconnect();
});

const failure = (n: number, code = 'upstream_error'): FailureRecord => ({
  at: new Date(1_700_000_000_000 + n * 1000).toISOString(),
  code,
  message: `failure ${n}`,
  job_id: `ji_${n}`,
  tenant_id: 't1',
  lane: 'batch',
  model: 'mock',
});

describe('FailureLog', () => {
  it('keeps only the newest failures, newest first, and cuts long messages', async () => {
    const log = new FailureLog({ redis, prefix: prefix, capacity: 3 });
    for (let n = 1; n <= 5; n++) await log.record(failure(n));
    await log.record({ ...failure(6), message: 'x'.repeat(1000) });

    const kept = await log.recent();
    expect(kept.map((f) => f.job_id)).toEqual(['ji_6', 'ji_5', 'ji_4']);
    expect(kept[0]?.message).toHaveLength(200);
    expect(await redis.llen(`${prefix}:failures`)).toBe(3);
  });
});

describe('groupFailures', () => {
  it('groups by code, the most frequent first, each with its count and newest failure', () => {
    const newestFirst = [
      failure(5, 'proxy_exhausted'),
      failure(4, 'upstream_error'),
      failure(3, 'upstream_error'),
      failure(2, 'deadline_exceeded'),
      failure(1, 'upstream_error'),
    ];
    expect(groupFailures(newestFirst).map((g) => [g.code, g.count, g.last.job_id])).toEqual([
      ['upstream_error', 3, 'ji_4'],
      ['proxy_exhausted', 1, 'ji_5'],
      ['deadline_exceeded', 1, 'ji_2'],
    ]);
  });
});
