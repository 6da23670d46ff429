import { Ledger, type AttemptEntry } from '@switchyard/ledger';
import { createLogger } from '@switchyard/telemetry';
import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerAhead } from './ledger-ahead.ts';

let handle: RedisHandle;
let redis: Redis;
let admin: Redis;
const logs: string[] = [];
const logger = createLogger({
  name: 'ledger-ahead-test',
  level: 'warn',
  destination: new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  }),
});

beforeAll(async () => {
  // Its own instance: the test makes Redis refuse writes (maxmemory).
  handle = await startRedis({ dedicated: true });
  redis = new Redis(handle.url, { enableAutoPipelining: true });
  admin = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  admin?.disconnect();
  await handle?.stop();
});

const entry = (jobId: string): AttemptEntry => ({
  jobId,
  attempt: 1,
  tenantId: 't_ahead',
  lane: 'batch',
  kind: 'completion',
  provider: 'openai',
  model: 'mock',
  proxyId: null,
  outcome: 'ok',
  interrupted: false,
  latencyMs: 3,
  inputTokens: 5,
  outputTokens: 16,
  bytes: 404,
  costNanos: 10_350,
  at: Date.now(),
});

describe('ledger writes sent ahead of the job completion', () => {
  it('is applied before a command sent after it on the same connection', async () => {
    const ledger = new Ledger({ redis, prefix: 'ahead', entryTtlSeconds: 60 });
    const ahead = new LedgerAhead({ ledger, logger });
    const seen: boolean[] = [];
    for (let i = 0; i < 50; i++) {
      ahead.send(entry(`jb_order${i}`));
      // What BullMQ's finishing script would be: the next command on the connection.
      seen.push((await redis.exists(ledger.keys('t_ahead').job(`jb_order${i}`))) === 1);
    }
    expect(seen.every(Boolean)).toBe(true);
    await ahead.drain(1_000);
    expect(ahead.pending).toBe(0);
  });

  it('a write Redis refuses for memory waits for memory, past its retry count, and drain waits for it', async () => {
    const ledger = new Ledger({ redis, prefix: 'ahead-oom', entryTtlSeconds: 60 });
    const ahead = new LedgerAhead({ ledger, logger, retryDelaysMs: [50, 50] });
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      ahead.send(entry('jb_refused'));
      // Many more refusals than retry delays: a full Redis is waited out, not given up on.
      await sleep(600);
      expect(ahead.pending).toBe(1);
      expect(logs.some((l) => l.includes('ledger write refused; retrying'))).toBe(true);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    await ahead.drain(5_000);
    expect(ahead.pending).toBe(0);
    expect(logs.some((l) => l.includes('jb_refused') && l.includes('lost'))).toBe(false);
    const attempts = await ledger.jobAttempts('t_ahead', 'jb_refused');
    expect(attempts.map((a) => [a.attempt, a.costNanos])).toEqual([[1, 10_350]]);
  });

  it('a write refused for another reason is retried a few times, then logged with its ids, not dropped silently', async () => {
    const ledger = new Ledger({ redis, prefix: 'ahead-lost', entryTtlSeconds: 60 });
    const ahead = new LedgerAhead({ ledger, logger, retryDelaysMs: [50] });
    // The job's ledger key holds a string: every write answers WRONGTYPE.
    await admin.set(ledger.keys('t_ahead').job('jb_lost'), 'not a hash');
    ahead.send(entry('jb_lost'));
    await ahead.drain(2_000);
    expect(ahead.pending).toBe(0);
    const line = logs.find((l) => l.includes('ledger write lost after every retry'));
    expect(line).toContain('jb_lost');
    expect(line).toContain('"costNanos":10350');
    expect(line).toContain('WRONGTYPE');
  });
});
