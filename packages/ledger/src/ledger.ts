import type { Cluster, Redis } from 'ioredis';
import { dayRange, parseDay, utcDay } from './day.ts';
import { decodeEntry, encodeEntry, modelKey, normalizeEntry } from './entry.ts';
import { LedgerError } from './errors.ts';
import { assertJobId, assertPrefix, ledgerKeys, type LedgerKeys } from './keys.ts';
import { defineScripts, type ScriptRunner } from './scripts.ts';
import type {
  AttemptEntry,
  JobTotals,
  LedgerOptions,
  RecordResult,
  UsageGroupBy,
  UsageQuery,
  UsageReport,
} from './types.ts';
import { SPEND_FIELD, buildUsageReport } from './usage.ts';

const DEFAULT_AGGREGATE_TTL_SECONDS = 400 * 86_400;
const TOTAL_FIELDS = ['attempts', 'cost', 'in', 'out', 'bytes'] as const;
const GROUP_BYS: readonly UsageGroupBy[] = ['model', 'day', 'outcome'];

function ttl(value: number | undefined, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new LedgerError('LEDGER_INVALID_OPTIONS', `${name} must be a positive whole number of seconds`);
  }
  return value;
}

function toTotals(values: (string | null)[]): JobTotals {
  const n = (i: number) => Number(values[i] ?? 0);
  return { attempts: n(0), costNanos: n(1), inputTokens: n(2), outputTokens: n(3), bytes: n(4) };
}

/** What record-2.lua and upgrade-3.lua take of an entry: model key, outcome, tokens, bytes, cost. */
const amounts = (e: AttemptEntry) => [
  modelKey(e),
  e.outcome,
  String(e.inputTokens),
  String(e.outputTokens),
  String(e.bytes),
  String(e.costNanos),
];

/** What record-2.lua (ARGV[12..15]) and upgrade-3.lua (ARGV[19..22]) take of an entry's token classes. */
const tokenClasses = (e: AttemptEntry) => [
  String(e.cachedInputTokens ?? 0),
  String(e.cacheWriteTokens ?? 0),
  String(e.reasoningTokens ?? 0),
  e.estimated ? '1' : '0',
];

function recordResult(reply: unknown): RecordResult {
  const [status, jobCost] = Array.isArray(reply) ? (reply as [unknown, unknown]) : [];
  if ((status === 1 || status === 0) && typeof jobCost === 'string') {
    return { status: status === 1 ? 'recorded' : 'duplicate', jobCostNanos: Number(jobCost) };
  }
  throw new LedgerError('LEDGER_SCRIPT_ERROR', `record answered ${JSON.stringify(reply)}`);
}

type PipelineResult = [error: Error | null, result: unknown][] | null;

function unwrap<T>(results: PipelineResult): T[] {
  if (!results) throw new LedgerError('LEDGER_SCRIPT_ERROR', 'pipeline returned nothing');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}

/**
 * The cost ledger: one entry per upstream attempt, and per-tenant aggregates updated in the same
 * atomic write. Money is integer nano-USD throughout, exact up to 2^53 (about 9 million USD) per sum.
 */
export class Ledger {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  readonly #entryTtl: number;
  readonly #aggregateTtl: number;
  readonly #run: ScriptRunner;

  constructor(opts: LedgerOptions) {
    assertPrefix(opts.prefix);
    this.#redis = opts.redis;
    this.#prefix = opts.prefix;
    this.#entryTtl = ttl(opts.entryTtlSeconds, 'entryTtlSeconds');
    this.#aggregateTtl = ttl(
      opts.aggregateTtlSeconds ?? DEFAULT_AGGREGATE_TTL_SECONDS,
      'aggregateTtlSeconds',
    );
    this.#run = defineScripts(opts.redis);
  }

  /** The key names of one tenant's ledger (for operators and tests). */
  keys(tenantId: string): LedgerKeys {
    return ledgerKeys(this.#prefix, tenantId);
  }

  /**
   * Records one attempt and updates the job's totals and the tenant's day aggregates atomically.
   * Idempotent: a replayed write of the same (jobId, attempt) changes nothing and answers
   * `'duplicate'`, whatever it carries (the first write wins). `savedNanos`, for a `cache_hit`:
   * what the answer cost when it was made upstream, added to the day's saved figure (the entry
   * itself stays at $0).
   */
  async record(entry: AttemptEntry, opts: { savedNanos?: number } = {}): Promise<RecordResult> {
    const e = normalizeEntry(entry);
    const saved = opts.savedNanos ?? 0;
    if (!Number.isSafeInteger(saved) || saved < 0)
      throw new LedgerError('LEDGER_INVALID_ENTRY', 'savedNanos must be a non-negative integer');
    const keys = this.keys(e.tenantId);
    const encoded = encodeEntry(e);
    const reply = await this.#run(
      'record',
      [keys.job(e.jobId), keys.day(utcDay(e.at))],
      [
        e.attempt,
        encoded,
        ...amounts(e),
        this.#entryTtl,
        this.#aggregateTtl,
        String(saved),
        ...tokenClasses(e),
        e.interrupted ? '1' : '0',
      ],
    );
    const [status, value] = Array.isArray(reply) ? (reply as [unknown, unknown]) : [];
    if (status === 2 && typeof value === 'string') return this.#replaceNote(e, encoded, value, saved);
    return recordResult(reply);
  }

  /**
   * The real outcome of an attempt arrived after another worker noted it as interrupted (its
   * worker was paused, not dead): replaces the note, the attempt still counted once.
   */
  async #replaceNote(e: AttemptEntry, encoded: string, stored: string, saved: number): Promise<RecordResult> {
    const note = decodeEntry(e.tenantId, e.jobId, e.attempt, stored);
    const keys = this.keys(e.tenantId);
    const reply = await this.#run(
      'upgrade',
      [keys.job(e.jobId), keys.day(utcDay(e.at)), keys.day(utcDay(note.at))],
      [
        e.attempt,
        stored,
        encoded,
        this.#entryTtl,
        this.#aggregateTtl,
        ...amounts(e),
        ...amounts(note),
        String(saved),
        ...tokenClasses(e),
      ],
    );
    return recordResult(reply);
  }

  /** Every recorded attempt of a job, ordered by attempt; empty when none (or expired). */
  async jobAttempts(tenantId: string, jobId: string): Promise<AttemptEntry[]> {
    assertJobId(jobId, 'LEDGER_INVALID_QUERY');
    const fields = await this.#redis.hgetall(this.keys(tenantId).job(jobId));
    const entries: AttemptEntry[] = [];
    for (const [field, raw] of Object.entries(fields)) {
      if (!field.startsWith('e:')) continue;
      entries.push(decodeEntry(tenantId, jobId, Number(field.slice(2)), raw));
    }
    return entries.sort((a, b) => a.attempt - b.attempt);
  }

  /** A job's running totals over every attempt, failures and interrupted ones included. */
  async jobTotals(tenantId: string, jobId: string): Promise<JobTotals> {
    assertJobId(jobId, 'LEDGER_INVALID_QUERY');
    return toTotals(await this.#redis.hmget(this.keys(tenantId).job(jobId), ...TOTAL_FIELDS));
  }

  /** Totals of many jobs in one pipelined round trip; jobs with no entries map to zeros. */
  async jobTotalsMany(tenantId: string, jobIds: string[]): Promise<Map<string, JobTotals>> {
    const keys = this.keys(tenantId);
    const unique = [...new Set(jobIds)];
    const totals = new Map<string, JobTotals>();
    if (unique.length === 0) return totals;
    for (const jobId of unique) assertJobId(jobId, 'LEDGER_INVALID_QUERY');
    const pipeline = this.#redis.pipeline();
    for (const jobId of unique) pipeline.hmget(keys.job(jobId), ...TOTAL_FIELDS);
    const results = unwrap<(string | null)[]>(await pipeline.exec());
    unique.forEach((jobId, i) => totals.set(jobId, toTotals(results[i] ?? [])));
    return totals;
  }

  /** What the tenant spent on one UTC day (`YYYY-MM-DD`), in nano-USD; one HGET. */
  async daySpendNanos(tenantId: string, day: string): Promise<number> {
    parseDay(day);
    return Number((await this.#redis.hget(this.keys(tenantId).day(day), SPEND_FIELD)) ?? 0);
  }

  /**
   * Usage from `from` to `to` (UTC days, both included, at most 366), grouped by model, day or
   * outcome, with what retries cost. One pipelined round trip. Throws a `LedgerError`
   * (code `LEDGER_INVALID_QUERY`) for a bad day, an inverted or an over-long range.
   */
  async usage(tenantId: string, q: UsageQuery): Promise<UsageReport> {
    if (!GROUP_BYS.includes(q.groupBy)) {
      throw new LedgerError('LEDGER_INVALID_QUERY', `cannot group by ${String(q.groupBy)}`);
    }
    const keys = this.keys(tenantId);
    const days = dayRange(q.from, q.to);
    const pipeline = this.#redis.pipeline();
    for (const day of days) pipeline.hgetall(keys.day(day));
    const hashes = unwrap<Record<string, string>>(await pipeline.exec());
    return buildUsageReport(
      days.map((day, i) => ({ day, fields: hashes[i] ?? {} })),
      q,
    );
  }
}
