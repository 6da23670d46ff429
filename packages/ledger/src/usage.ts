import { ATTEMPT_OUTCOMES, costFromNanos } from '@switchyard/contracts';
import type { UsageGroupBy, UsageReport, UsageRow } from './types.ts';

/** Field of a day hash holding the day's total spend (nano-USD). */
export const SPEND_FIELD = 'spend';

interface Sums {
  attempts: number;
  retries: number;
  input: number;
  output: number;
  bytes: number;
  nanos: number;
  retryNanos: number;
  /** Attempts with outcome `cache_hit`. */
  hits: number;
  savedNanos: number;
  cachedInput: number;
  cacheWrite: number;
  reasoning: number;
  estAttempts: number;
  estInput: number;
  estOutput: number;
  estNanos: number;
}

const METRICS: Record<string, keyof Sums> = {
  a: 'attempts',
  r: 'retries',
  i: 'input',
  o: 'output',
  b: 'bytes',
  n: 'nanos',
  rn: 'retryNanos',
  sv: 'savedNanos',
  ci: 'cachedInput',
  cw: 'cacheWrite',
  rs: 'reasoning',
  e: 'estAttempts',
  ei: 'estInput',
  eo: 'estOutput',
  en: 'estNanos',
};

const emptySums = (): Sums => ({
  attempts: 0,
  retries: 0,
  input: 0,
  output: 0,
  bytes: 0,
  nanos: 0,
  retryNanos: 0,
  hits: 0,
  savedNanos: 0,
  cachedInput: 0,
  cacheWrite: 0,
  reasoning: 0,
  estAttempts: 0,
  estInput: 0,
  estOutput: 0,
  estNanos: 0,
});

function toRow(s: Sums): Omit<UsageRow, 'key'> {
  return {
    attempts: s.attempts,
    retries: s.retries,
    input_tokens: s.input,
    output_tokens: s.output,
    cached_input_tokens: s.cachedInput,
    cache_write_tokens: s.cacheWrite,
    reasoning_tokens: s.reasoning,
    bytes: s.bytes,
    cost: costFromNanos(s.nanos),
    retry_cost: costFromNanos(s.retryNanos),
    cache_hits: s.hits,
    saved_cost: costFromNanos(s.savedNanos),
    estimated: {
      attempts: s.estAttempts,
      input_tokens: s.estInput,
      output_tokens: s.estOutput,
      cost: costFromNanos(s.estNanos),
    },
  };
}

function compareRows(groupBy: UsageGroupBy): (a: UsageRow, b: UsageRow) => number {
  const byKey = (a: UsageRow, b: UsageRow) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (groupBy === 'day') return byKey;
  if (groupBy === 'outcome') {
    const rank = (k: string) => {
      const i = (ATTEMPT_OUTCOMES as readonly string[]).indexOf(k);
      return i < 0 ? ATTEMPT_OUTCOMES.length : i;
    };
    return (a, b) => rank(a.key) - rank(b.key) || byKey(a, b);
  }
  return (a, b) => b.cost.nano_usd - a.cost.nano_usd || byKey(a, b);
}

/**
 * Groups day hashes (field `<metric>|<outcome>|<model key>` -> integer) into a usage report. Rows
 * exist only for keys with attempts: models by cost (highest first), days in order, outcomes in
 * {@link ATTEMPT_OUTCOMES} order. Entries with outcome `cache_hit` are counted in `cache_hits` too.
 */
export function buildUsageReport(
  days: { day: string; fields: Record<string, string> }[],
  q: { from: string; to: string; groupBy: UsageGroupBy },
): UsageReport {
  const groups = new Map<string, Sums>();
  const total = emptySums();
  for (const { day, fields } of days) {
    for (const [field, raw] of Object.entries(fields)) {
      const first = field.indexOf('|');
      const second = field.indexOf('|', first + 1);
      if (first < 0 || second < 0) continue;
      const metric = METRICS[field.slice(0, first)];
      if (!metric) continue;
      const outcome = field.slice(first + 1, second);
      const model = field.slice(second + 1);
      const key = q.groupBy === 'day' ? day : q.groupBy === 'outcome' ? outcome : model;
      let sums = groups.get(key);
      if (!sums) groups.set(key, (sums = emptySums()));
      const value = Number(raw);
      sums[metric] += value;
      total[metric] += value;
      if (metric === 'attempts' && outcome === 'cache_hit') {
        sums.hits += value;
        total.hits += value;
      }
    }
  }
  const rows = [...groups]
    .filter(([, s]) => s.attempts > 0)
    .map(([key, s]) => ({ key, ...toRow(s) }))
    .sort(compareRows(q.groupBy));
  return {
    object: 'usage',
    group_by: q.groupBy,
    from: q.from,
    to: q.to,
    rows,
    total: toRow(total),
    retry_share: total.nanos === 0 ? 0 : total.retryNanos / total.nanos,
  };
}
