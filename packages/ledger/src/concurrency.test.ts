import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { OUTCOMES } from '@switchyard/contracts';
import { Ledger } from './ledger.ts';
import { NOON, entry, openTestLedger, scrape, type TestLedger } from './test-support.ts';
import type { AttemptEntry } from './types.ts';

const CLIENTS = 8;
const WRITES = 1000;
const JOBS = 40;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', null];

/** mulberry32, seeded, so a failure reproduces: an integer in [0, n). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), s | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

function workload(): AttemptEntry[] {
  const pick = rng(42);
  const nextAttempt = new Map<string, number>();
  const entries: AttemptEntry[] = [];
  for (let i = 0; i < WRITES; i++) {
    const jobId = `job-${pick(JOBS)}`;
    const attempt = (nextAttempt.get(jobId) ?? 0) + 1;
    nextAttempt.set(jobId, attempt);
    const model = MODELS[pick(MODELS.length)] ?? null;
    const common = {
      jobId,
      attempt,
      outcome: OUTCOMES[pick(OUTCOMES.length)] ?? 'ok',
      // straddles midnight UTC so two day buckets fill
      at: NOON + 11 * 3_600_000 + pick(2 * 3_600_000),
      bytes: pick(5_000_000),
      // up to ~1,000 USD each: the sums reach ~5e14 nano-USD, far past float32, exact in a double
      costNanos: pick(1_000_000) * 1_000_003 + pick(1000),
    };
    entries.push(
      model === null
        ? scrape(common)
        : entry({ ...common, model, inputTokens: pick(100_000), outputTokens: pick(8_000) }),
    );
  }
  return entries;
}

describe('concurrent writers', () => {
  let t: TestLedger;
  const extra: Redis[] = [];
  afterEach(async () => {
    for (const r of extra.splice(0)) r.disconnect();
    await t.close();
  });

  it('1,000 concurrent writes from many clients sum exactly', async () => {
    t = await openTestLedger();
    const ledgers = Array.from({ length: CLIENTS }, () => {
      const redis = new Redis(t.url);
      extra.push(redis);
      return new Ledger({ redis, prefix: t.prefix, entryTtlSeconds: 3600 });
    });
    const entries = workload();
    // every entry is written twice, by two different clients, all at once
    const replies = await Promise.all(
      [...entries, ...entries].map((e, i) => ledgers[i % CLIENTS]!.record(e)),
    );
    expect(replies.filter((r) => r.status === 'recorded')).toHaveLength(WRITES);
    expect(replies.filter((r) => r.status === 'duplicate')).toHaveLength(WRITES);

    const sum = (es: AttemptEntry[], f: (e: AttemptEntry) => number) => es.reduce((s, e) => s + f(e), 0);
    const jobIds = [...new Set(entries.map((e) => e.jobId))];
    const totals = await t.ledger.jobTotalsMany('acme', jobIds);
    for (const jobId of jobIds) {
      const mine = entries.filter((e) => e.jobId === jobId);
      expect(totals.get(jobId)).toEqual({
        attempts: mine.length,
        costNanos: sum(mine, (e) => e.costNanos),
        inputTokens: sum(mine, (e) => e.inputTokens),
        outputTokens: sum(mine, (e) => e.outputTokens),
        bytes: sum(mine, (e) => e.bytes),
      });
    }

    const days = ['2024-03-10', '2024-03-11'];
    for (const day of days) {
      const expected = sum(
        entries.filter((e) => new Date(e.at).toISOString().startsWith(day)),
        (e) => e.costNanos,
      );
      expect(expected).toBeGreaterThan(0);
      expect(await t.ledger.daySpendNanos('acme', day)).toBe(expected);
    }

    const report = await t.ledger.usage('acme', { from: days[0]!, to: days[1]!, groupBy: 'model' });
    const retries = entries.filter((e) => e.attempt > 1);
    expect(report.total).toMatchObject({
      attempts: WRITES,
      retries: retries.length,
      input_tokens: sum(entries, (e) => e.inputTokens),
      output_tokens: sum(entries, (e) => e.outputTokens),
      bytes: sum(entries, (e) => e.bytes),
      cost: { nano_usd: sum(entries, (e) => e.costNanos) },
      retry_cost: { nano_usd: sum(retries, (e) => e.costNanos) },
    });
    for (const row of report.rows) {
      const mine = entries.filter((e) => (e.model ?? '(scrape)') === row.key);
      expect(row.cost.nano_usd, row.key).toBe(sum(mine, (e) => e.costNanos));
      expect(row.attempts, row.key).toBe(mine.length);
    }
    expect(report.rows).toHaveLength(MODELS.length);
  });
});
