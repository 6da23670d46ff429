import { afterEach, describe, expect, it } from 'vitest';
import { costFromNanos } from '@switchyard/contracts';
import { NOON, entry, openTestLedger, scrape, type TestLedger } from './test-support.ts';

const DAY = 86_400_000;
const noClasses = {
  cached_input_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  estimated: { attempts: 0, input_tokens: 0, output_tokens: 0, cost: costFromNanos(0) },
};

describe('usage', () => {
  let t: TestLedger;
  afterEach(async () => t.close());

  it('usage groups by model, day and outcome with the retry share', async () => {
    t = await openTestLedger();
    const L = t.ledger;
    // 2024-03-10: job a (gpt-4o-mini) failed once, then ok on the retry
    await L.record(
      entry({ jobId: 'a', attempt: 1, outcome: 'upstream_fault', outputTokens: 0, costNanos: 100 }),
    );
    await L.record(entry({ jobId: 'a', attempt: 2, costNanos: 300 }));
    // 2024-03-11: job b (gpt-4o) ok first time; a scrape blocked, then ok on the second attempt
    await L.record(
      entry({
        jobId: 'b',
        model: 'gpt-4o',
        at: NOON + DAY,
        inputTokens: 10,
        outputTokens: 5,
        costNanos: 1000,
      }),
    );
    await L.record(
      scrape({ jobId: 'c', attempt: 1, outcome: 'blocked', at: NOON + DAY, bytes: 10, costNanos: 20 }),
    );
    await L.record(scrape({ jobId: 'c', attempt: 2, at: NOON + DAY, bytes: 30, costNanos: 80 }));
    // outside the range, and another tenant inside it: neither counts
    await L.record(entry({ jobId: 'z', at: NOON - DAY, costNanos: 7 }));
    await L.record(entry({ jobId: 'a', tenantId: 'globex', costNanos: 5 }));

    const range = { from: '2024-03-10', to: '2024-03-11' };
    const byModel = await L.usage('acme', { ...range, groupBy: 'model' });
    expect(byModel.object).toBe('usage');
    expect(byModel.group_by).toBe('model');
    expect(byModel.from).toBe('2024-03-10');
    expect(byModel.to).toBe('2024-03-11');
    expect(byModel.rows).toEqual([
      {
        key: 'gpt-4o',
        attempts: 1,
        retries: 0,
        input_tokens: 10,
        output_tokens: 5,
        ...noClasses,
        bytes: 0,
        cost: costFromNanos(1000),
        retry_cost: costFromNanos(0),
        cache_hits: 0,
        saved_cost: costFromNanos(0),
      },
      {
        key: 'gpt-4o-mini',
        attempts: 2,
        retries: 1,
        input_tokens: 2400,
        output_tokens: 300,
        ...noClasses,
        bytes: 0,
        cost: costFromNanos(400),
        retry_cost: costFromNanos(300),
        cache_hits: 0,
        saved_cost: costFromNanos(0),
      },
      {
        key: '(scrape)',
        attempts: 2,
        retries: 1,
        input_tokens: 0,
        output_tokens: 0,
        ...noClasses,
        bytes: 40,
        cost: costFromNanos(100),
        retry_cost: costFromNanos(80),
        cache_hits: 0,
        saved_cost: costFromNanos(0),
      },
    ]);
    expect(byModel.total).toEqual({
      attempts: 5,
      retries: 2,
      input_tokens: 2410,
      output_tokens: 305,
      ...noClasses,
      bytes: 40,
      cost: { usd: 1500 / 1e9, nano_usd: 1500 },
      retry_cost: { usd: 380 / 1e9, nano_usd: 380 },
      cache_hits: 0,
      saved_cost: { usd: 0, nano_usd: 0 },
    });
    expect(byModel.retry_share).toBeCloseTo(380 / 1500, 12);

    const byDay = await L.usage('acme', { ...range, groupBy: 'day' });
    expect(
      byDay.rows.map((r) => [r.key, r.attempts, r.retries, r.cost.nano_usd, r.retry_cost.nano_usd]),
    ).toEqual([
      ['2024-03-10', 2, 1, 400, 300],
      ['2024-03-11', 3, 1, 1100, 80],
    ]);
    expect(byDay.total).toEqual(byModel.total);

    const byOutcome = await L.usage('acme', { ...range, groupBy: 'outcome' });
    expect(byOutcome.rows.map((r) => [r.key, r.attempts, r.retries, r.cost.nano_usd])).toEqual([
      ['ok', 3, 2, 1380],
      ['blocked', 1, 0, 20],
      ['upstream_fault', 1, 0, 100],
    ]);
    expect(byOutcome.retry_share).toBe(byModel.retry_share);
  });

  it('cache hits are counted at $0 with what they saved; an invalid answer keeps its cost', async () => {
    t = await openTestLedger();
    const L = t.ledger;
    await L.record(entry({ jobId: 'x', outcome: 'invalid_output', costNanos: 700 }));
    await L.record(entry({ jobId: 'x', attempt: 2, model: 'gpt-4o', costNanos: 900 }));
    const hit = { outcome: 'cache_hit', inputTokens: 0, outputTokens: 0, costNanos: 0 } as const;
    await L.record(entry({ ...hit, jobId: 'h1' }), { savedNanos: 250 });
    await L.record(entry({ ...hit, jobId: 'h2' }), { savedNanos: 250 });
    // A replayed write of a hit is a duplicate: saved is not counted twice.
    expect((await L.record(entry({ ...hit, jobId: 'h2' }), { savedNanos: 250 })).status).toBe('duplicate');
    const range = { from: '2024-03-10', to: '2024-03-10' };
    const byOutcome = await L.usage('acme', { ...range, groupBy: 'outcome' });
    expect(
      byOutcome.rows.map((r) => [r.key, r.attempts, r.cost.nano_usd, r.cache_hits, r.saved_cost.nano_usd]),
    ).toEqual([
      ['ok', 1, 900, 0, 0],
      ['invalid_output', 1, 700, 0, 0],
      ['cache_hit', 2, 0, 2, 500],
    ]);
    expect(byOutcome.total).toMatchObject({ attempts: 4, cache_hits: 2, saved_cost: { nano_usd: 500 } });
    expect(await L.daySpendNanos('acme', '2024-03-10')).toBe(1600);
    await expect(L.record(entry({ ...hit, jobId: 'h3' }), { savedNanos: -1 })).rejects.toMatchObject({
      code: 'LEDGER_INVALID_ENTRY',
    });
    // Entries read back with their outcomes.
    expect((await L.jobAttempts('acme', 'h1')).map((e) => [e.outcome, e.costNanos])).toEqual([
      ['cache_hit', 0],
    ]);
  });

  it('a range without traffic reports no rows, zero totals and a zero retry share', async () => {
    t = await openTestLedger();
    await t.ledger.record(entry({ costNanos: 0 }));
    const empty = await t.ledger.usage('acme', { from: '2023-01-01', to: '2023-12-31', groupBy: 'day' });
    expect(empty.rows).toEqual([]);
    expect(empty.total.attempts).toBe(0);
    expect(empty.retry_share).toBe(0);
    // traffic that cost nothing still counts attempts, and the share stays 0 rather than NaN
    const free = await t.ledger.usage('acme', { from: '2024-03-10', to: '2024-03-10', groupBy: 'model' });
    expect(free.rows.map((r) => [r.key, r.attempts])).toEqual([['gpt-4o-mini', 1]]);
    expect(free.retry_share).toBe(0);
  });

  it('daily spend is the sum of that UTC day only', async () => {
    t = await openTestLedger();
    const midnight = Date.UTC(2024, 2, 11);
    await t.ledger.record(entry({ jobId: 'late', at: midnight - 1, costNanos: 1_000 }));
    await t.ledger.record(scrape({ jobId: 'late', attempt: 2, at: midnight - 1, costNanos: 20 }));
    await t.ledger.record(entry({ jobId: 'early', at: midnight, costNanos: 300 }));
    await t.ledger.record(entry({ jobId: 'early', attempt: 2, at: midnight + DAY - 1, costNanos: 4 }));
    await t.ledger.record(entry({ jobId: 'other', tenantId: 'globex', at: midnight, costNanos: 50_000 }));

    expect(await t.ledger.daySpendNanos('acme', '2024-03-10')).toBe(1_020);
    expect(await t.ledger.daySpendNanos('acme', '2024-03-11')).toBe(304);
    expect(await t.ledger.daySpendNanos('acme', '2024-03-12')).toBe(0);
    expect(await t.ledger.daySpendNanos('globex', '2024-03-11')).toBe(50_000);
    await expect(t.ledger.daySpendNanos('acme', '2024-3-11')).rejects.toMatchObject({
      name: 'LedgerError',
      code: 'LEDGER_INVALID_QUERY',
    });
  });

  it('usage rejects an inverted or over-long range', async () => {
    t = await openTestLedger();
    const bad = [
      { from: '2024-03-11', to: '2024-03-10' },
      { from: '2024-01-01', to: '2025-01-01' }, // 367 days
      { from: '2024-02-30', to: '2024-03-01' },
      { from: '2024/01/01', to: '2024-01-02' },
      { from: '', to: '2024-01-02' },
    ];
    for (const range of bad) {
      const err = await t.ledger.usage('acme', { ...range, groupBy: 'day' }).catch((e: unknown) => e);
      expect(err, JSON.stringify(range)).toMatchObject({ name: 'LedgerError', code: 'LEDGER_INVALID_QUERY' });
    }
    await expect(
      t.ledger.usage('acme', { from: '2024-01-01', to: '2024-01-02', groupBy: 'proxy' as never }),
    ).rejects.toMatchObject({ name: 'LedgerError', code: 'LEDGER_INVALID_QUERY' });
    // a full leap year is 366 days and allowed
    const year = await t.ledger.usage('acme', { from: '2024-01-01', to: '2024-12-31', groupBy: 'day' });
    expect(year.rows).toEqual([]);
  });

  it('usage shows each token class, and estimated attempts apart, on top of the totals', async () => {
    t = await openTestLedger();
    const L = t.ledger;
    const classes = { cachedInputTokens: 60, cacheWriteTokens: 30, reasoningTokens: 7 };
    await L.record(entry({ jobId: 'c', inputTokens: 100, outputTokens: 20, costNanos: 900, ...classes }));
    await L.record(
      entry({
        jobId: 'd',
        outcome: 'upstream_fault',
        inputTokens: 11,
        outputTokens: 4,
        costNanos: 50,
        estimated: true,
      }),
    );
    const r = await L.usage('acme', { from: '2024-03-10', to: '2024-03-10', groupBy: 'model' });
    expect(r.total).toMatchObject({
      attempts: 2,
      input_tokens: 111,
      output_tokens: 24,
      cached_input_tokens: 60,
      cache_write_tokens: 30,
      reasoning_tokens: 7,
      cost: costFromNanos(950),
      estimated: { attempts: 1, input_tokens: 11, output_tokens: 4, cost: costFromNanos(50) },
    });
    const attempts = [...(await L.jobAttempts('acme', 'c')), ...(await L.jobAttempts('acme', 'd'))];
    expect(
      attempts.map((a) => [a.cachedInputTokens, a.cacheWriteTokens, a.reasoningTokens, a.estimated]),
    ).toEqual([
      [60, 30, 7, undefined],
      [undefined, undefined, undefined, true],
    ]);
  });
});
