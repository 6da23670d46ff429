import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { LedgerError } from './errors.ts';
import { Ledger } from './ledger.ts';
import { NOON, entry, openTestLedger, scrape, type TestLedger } from './test-support.ts';

async function snapshot(t: TestLedger): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
  for (const key of await t.allKeys()) state[key] = await t.redis.hgetall(key);
  return state;
}

describe('record-2.lua', () => {
  let t: TestLedger;
  afterEach(async () => t.close());

  it('a replayed write of the same attempt changes nothing', async () => {
    t = await openTestLedger();
    const first = await t.ledger.record(entry());
    expect(first.status).toBe('recorded');
    const second = await t.ledger.record(entry({ attempt: 2, outcome: 'rate_limited' }));
    // each write answers the job's running cost: both attempts so far
    expect(second).toEqual({ status: 'recorded', jobCostNanos: 720_000 });
    expect(first.jobCostNanos).toBeLessThan(720_000);
    const before = await snapshot(t);

    expect((await t.ledger.record(entry())).status).toBe('duplicate');
    // a replay carrying different numbers is still the same attempt: the first write wins
    expect((await t.ledger.record(entry({ costNanos: 999_999_999, inputTokens: 1 }))).status).toBe(
      'duplicate',
    );
    // a duplicate answers the job's running cost too, unchanged
    expect(await t.ledger.record(entry({ attempt: 2, outcome: 'ok', at: NOON + 86_400_000 }))).toEqual({
      status: 'duplicate',
      jobCostNanos: 720_000,
    });

    expect(await snapshot(t)).toEqual(before);
    expect(await t.ledger.jobTotals('acme', 'job-1')).toEqual({
      attempts: 2,
      costNanos: 720_000,
      inputTokens: 2400,
      outputTokens: 600,
      bytes: 0,
    });
    expect(await t.ledger.daySpendNanos('acme', '2024-03-10')).toBe(720_000);
  });

  it('a job’s first attempt sets its totals in the fields later attempts add to, zeros left out', async () => {
    t = await openTestLedger();
    const job = t.ledger.keys('acme').job('job-1');
    await t.ledger.record(entry({ outputTokens: 0, costNanos: 90_000 }));
    const first = await t.redis.hgetall(job);
    expect(Object.keys(first).sort()).toEqual(['attempts', 'cost', 'e:1', 'in']);
    expect(first).toMatchObject({ attempts: '1', cost: '90000', in: '1200' });
    expect(await t.ledger.record(entry({ attempt: 2, bytes: 10, costNanos: 5 }))).toEqual({
      status: 'recorded',
      jobCostNanos: 90_005,
    });
    expect(await t.redis.hgetall(job)).toMatchObject({
      attempts: '2',
      cost: '90005',
      in: '2400',
      out: '300',
      bytes: '10',
    });
  });

  it('job totals count every attempt including failures and interrupted ones', async () => {
    t = await openTestLedger();
    await t.ledger.record(
      entry({ attempt: 1, outcome: 'upstream_fault', outputTokens: 0, costNanos: 90_000 }),
    );
    // the worker died mid-stream: its token counts are unknown, the proxy bytes and cost are not
    await t.ledger.record(
      entry({
        attempt: 2,
        outcome: 'canceled',
        interrupted: true,
        inputTokens: 5,
        bytes: 4096,
        costNanos: 2_048,
      }),
    );
    await t.ledger.record(
      entry({ attempt: 3, outcome: 'rate_limited', inputTokens: 0, outputTokens: 0, costNanos: 0 }),
    );
    await t.ledger.record(entry({ attempt: 4 }));

    expect(await t.ledger.jobTotals('acme', 'job-1')).toEqual({
      attempts: 4,
      costNanos: 90_000 + 2_048 + 0 + 360_000,
      inputTokens: 1200 + 0 + 0 + 1200,
      outputTokens: 0 + 0 + 0 + 300,
      bytes: 4096,
    });
    const attempts = await t.ledger.jobAttempts('acme', 'job-1');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.interrupted, a.inputTokens])).toEqual([
      [1, 'upstream_fault', false, 1200],
      [2, 'canceled', true, 0],
      [3, 'rate_limited', false, 0],
      [4, 'ok', false, 1200],
    ]);
  });

  it('a late real outcome replaces the interrupted note of its attempt, counted once (a paused worker)', async () => {
    t = await openTestLedger();
    const note = entry({
      attempt: 1,
      outcome: 'upstream_fault',
      interrupted: true,
      costNanos: 0,
      at: NOON + 86_400_000, // the re-run noted it the next day
    });
    await t.ledger.record(note);
    await t.ledger.record(entry({ attempt: 2 }));
    // the paused worker wakes up and records what the upstream billed it
    const late = entry({ attempt: 1, outputTokens: 40, costNanos: 204_000, latencyMs: 9_000 });
    expect(await t.ledger.record(late)).toEqual({ status: 'recorded', jobCostNanos: 204_000 + 360_000 });
    // once replaced, it is an ordinary recorded attempt: replays and a second note change nothing
    const before = await snapshot(t);
    expect((await t.ledger.record(late)).status).toBe('duplicate');
    expect((await t.ledger.record(note)).status).toBe('duplicate');
    expect(await snapshot(t)).toEqual(before);

    expect(await t.ledger.jobTotals('acme', 'job-1')).toEqual({
      attempts: 2,
      costNanos: 564_000,
      inputTokens: 2400,
      outputTokens: 340,
      bytes: 0,
    });
    const attempts = await t.ledger.jobAttempts('acme', 'job-1');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.interrupted])).toEqual([
      [1, 'ok', false],
      [2, 'ok', false],
    ]);
    const days = ['2024-03-10', '2024-03-11'] as const;
    const report = await t.ledger.usage('acme', { from: days[0], to: days[1], groupBy: 'outcome' });
    expect(report.total).toMatchObject({ attempts: 2, retries: 1, input_tokens: 2400, output_tokens: 340 });
    expect(JSON.stringify(report)).not.toContain('upstream_fault');
    expect(await t.ledger.daySpendNanos('acme', days[0])).toBe(564_000);
    expect(await t.ledger.daySpendNanos('acme', days[1])).toBe(0);
  });

  it('a late real outcome that replaces a note brings its token classes and estimate into usage', async () => {
    t = await openTestLedger();
    await t.ledger.record(entry({ attempt: 1, outcome: 'upstream_fault', interrupted: true, costNanos: 0 }));
    const late = entry({
      attempt: 1,
      inputTokens: 1000,
      outputTokens: 50,
      cachedInputTokens: 600,
      cacheWriteTokens: 100,
      reasoningTokens: 20,
      estimated: true,
      costNanos: 90_000,
    });
    expect((await t.ledger.record(late)).status).toBe('recorded');
    const day = '2024-03-10';
    const report = await t.ledger.usage('acme', { from: day, to: day, groupBy: 'outcome' });
    expect(report.total).toMatchObject({
      attempts: 1,
      input_tokens: 1000,
      output_tokens: 50,
      cached_input_tokens: 600,
      cache_write_tokens: 100,
      reasoning_tokens: 20,
      estimated: { attempts: 1, input_tokens: 1000, output_tokens: 50, cost: { nano_usd: 90_000 } },
    });
  });

  it('job attempts come back in attempt order with every field as written', async () => {
    t = await openTestLedger();
    const written = [
      entry({ attempt: 10, latencyMs: 12.6 }),
      scrape({ jobId: 'job-1', attempt: 2, outcome: 'blocked', lane: 'batch' }),
      entry({ attempt: 1, proxyId: 'res-7', provider: 'anthropic', model: 'claude-sonnet' }),
    ];
    for (const e of written) await t.ledger.record(e);
    const read = await t.ledger.jobAttempts('acme', 'job-1');
    expect(read.map((a) => a.attempt)).toEqual([1, 2, 10]);
    expect(read[0]).toEqual(written[2]);
    expect(read[1]).toEqual(written[1]);
    expect(read[2]).toEqual({ ...written[0], latencyMs: 13 });
    expect(await t.ledger.jobAttempts('acme', 'no-such-job')).toEqual([]);
    expect(await t.ledger.jobAttempts('other-tenant', 'job-1')).toEqual([]);
  });

  it('totals of many jobs come back together, zeros for jobs with nothing recorded', async () => {
    t = await openTestLedger();
    for (let i = 1; i <= 3; i++) await t.ledger.record(entry({ jobId: 'a', attempt: i, costNanos: 100 * i }));
    await t.ledger.record(scrape({ jobId: 'b' }));
    const totals = await t.ledger.jobTotalsMany('acme', ['a', 'b', 'missing', 'a']);
    expect([...totals.keys()]).toEqual(['a', 'b', 'missing']);
    expect(totals.get('a')).toEqual({
      attempts: 3,
      costNanos: 600,
      inputTokens: 3600,
      outputTokens: 900,
      bytes: 0,
    });
    expect(totals.get('b')).toEqual({
      attempts: 1,
      costNanos: 125_000,
      inputTokens: 0,
      outputTokens: 0,
      bytes: 250_000,
    });
    expect(totals.get('missing')).toEqual({
      attempts: 0,
      costNanos: 0,
      inputTokens: 0,
      outputTokens: 0,
      bytes: 0,
    });
    expect((await t.ledger.jobTotalsMany('acme', [])).size).toBe(0);
  });

  it('job keys live entryTtlSeconds and day keys aggregateTtlSeconds (400 days by default)', async () => {
    t = await openTestLedger({ entryTtlSeconds: 3600 });
    await t.ledger.record(entry());
    const keys = t.ledger.keys('acme');
    expect(await t.redis.ttl(keys.job('job-1'))).toBeGreaterThan(3590);
    expect(await t.redis.ttl(keys.job('job-1'))).toBeLessThanOrEqual(3600);
    expect(await t.redis.ttl(keys.day('2024-03-10'))).toBeGreaterThan(400 * 86_400 - 10);

    const short = new Ledger({
      redis: t.redis,
      prefix: t.prefix,
      entryTtlSeconds: 60,
      aggregateTtlSeconds: 120,
    });
    await short.record(entry({ jobId: 'job-2' }));
    expect(await t.redis.ttl(keys.job('job-2'))).toBeLessThanOrEqual(60);
    expect(await t.redis.ttl(keys.day('2024-03-10'))).toBeLessThanOrEqual(120);
  });

  it("all of a tenant's keys carry the tenant's hash tag, so one script touches one slot", async () => {
    t = await openTestLedger();
    await t.ledger.record(entry({ tenantId: 'acme' }));
    await t.ledger.record(
      scrape({ tenantId: 'acme', jobId: 'j:with:colons{and}braces', at: NOON + 86_400_000 }),
    );
    await t.ledger.record(entry({ tenantId: 'globex' }));
    expect(await t.allKeys()).toEqual([
      `${t.prefix}:ledger:{acme}:day:2024-03-10`,
      `${t.prefix}:ledger:{acme}:day:2024-03-11`,
      `${t.prefix}:ledger:{acme}:job:j:with:colons{and}braces`,
      `${t.prefix}:ledger:{acme}:job:job-1`,
      `${t.prefix}:ledger:{globex}:day:2024-03-10`,
      `${t.prefix}:ledger:{globex}:job:job-1`,
    ]);
  });

  it('invalid entries are rejected before anything is written', async () => {
    t = await openTestLedger();
    const bad = [
      entry({ attempt: 0 }),
      entry({ attempt: 1.5 }),
      entry({ costNanos: -1 }),
      entry({ costNanos: 0.5 }),
      entry({ inputTokens: Number.NaN }),
      entry({ bytes: 2 ** 53 }),
      entry({ outcome: 'exploded' as never }),
      entry({ lane: 'bulk' as never }),
      entry({ kind: 'embedding' as never }),
      entry({ tenantId: 'a{b}' }),
      entry({ tenantId: '' }),
      entry({ jobId: '' }),
      entry({ at: -1 }),
      entry({ latencyMs: Number.POSITIVE_INFINITY }),
    ];
    for (const e of bad) {
      const err = await t.ledger.record(e).catch((error: unknown) => error);
      expect(err, JSON.stringify(e)).toBeInstanceOf(LedgerError);
      expect((err as LedgerError).code).toBe('LEDGER_INVALID_ENTRY');
    }
    expect(await t.allKeys()).toEqual([]);
  });

  it('rejects options it cannot honour', () => {
    const redis = new Redis({ lazyConnect: true });
    try {
      for (const opts of [
        { prefix: 'a b', entryTtlSeconds: 60 },
        { prefix: '{x}', entryTtlSeconds: 60 },
        { prefix: 'sy', entryTtlSeconds: 0 },
        { prefix: 'sy', entryTtlSeconds: 60, aggregateTtlSeconds: 1.5 },
      ]) {
        expect(() => new Ledger({ redis, ...opts })).toThrow(
          expect.objectContaining({ code: 'LEDGER_INVALID_OPTIONS' }) as Error,
        );
      }
    } finally {
      redis.disconnect();
    }
  });
});
