import { ATTEMPT_OUTCOMES, LANES, type AttemptOutcome, type Lane } from '@switchyard/contracts';
import { LedgerError } from './errors.ts';
import { assertJobId, assertTenantId } from './keys.ts';
import type { AttemptEntry, AttemptKind } from './types.ts';

const KINDS: readonly AttemptKind[] = ['completion', 'scrape'];
const FORMAT = 2;
/** Format 2 plus the token classes and the estimate flag; written only when one of them is set. */
const FORMAT_CLASSES = 3;

/** Where scrapes are grouped in usage by model; completions without a model go under `(unknown)`. */
export const SCRAPE_MODEL_KEY = '(scrape)';
export const UNKNOWN_MODEL_KEY = '(unknown)';

const invalid = (detail: string) => new LedgerError('LEDGER_INVALID_ENTRY', detail);

function count(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function nullableString(value: unknown, name: string): string | null {
  if (value === null || (typeof value === 'string' && value.length > 0 && value.length <= 200)) return value;
  throw invalid(`${name} must be null or a 1-200 character string`);
}

/**
 * Checks an entry and returns what is stored: latency rounded to whole ms, and no tokens for an
 * interrupted attempt (the usage report never arrived, so any count the caller has is a guess).
 */
export function normalizeEntry(e: AttemptEntry): AttemptEntry {
  assertJobId(e.jobId, 'LEDGER_INVALID_ENTRY');
  assertTenantId(e.tenantId, 'LEDGER_INVALID_ENTRY');
  if (count(e.attempt, 'attempt') < 1) throw invalid('attempt is 1-based');
  if (!LANES.includes(e.lane)) throw invalid(`unknown lane ${String(e.lane)}`);
  if (!KINDS.includes(e.kind)) throw invalid(`unknown kind ${String(e.kind)}`);
  if (!ATTEMPT_OUTCOMES.includes(e.outcome)) throw invalid(`unknown outcome ${String(e.outcome)}`);
  if (typeof e.interrupted !== 'boolean') throw invalid('interrupted must be a boolean');
  if (typeof e.latencyMs !== 'number' || !Number.isFinite(e.latencyMs) || e.latencyMs < 0) {
    throw invalid('latencyMs must be a non-negative number');
  }
  if (count(e.at, 'at') >= 253_402_300_800_000) throw invalid('at is past year 9999');
  return {
    ...normalizeClasses(e),
    jobId: e.jobId,
    attempt: e.attempt,
    tenantId: e.tenantId,
    lane: e.lane,
    kind: e.kind,
    provider: nullableString(e.provider, 'provider'),
    model: nullableString(e.model, 'model'),
    proxyId: nullableString(e.proxyId, 'proxyId'),
    outcome: e.outcome,
    interrupted: e.interrupted,
    latencyMs: Math.round(e.latencyMs),
    inputTokens: e.interrupted ? 0 : count(e.inputTokens, 'inputTokens'),
    outputTokens: e.interrupted ? 0 : count(e.outputTokens, 'outputTokens'),
    bytes: count(e.bytes, 'bytes'),
    costNanos: count(e.costNanos, 'costNanos'),
    at: e.at,
  };
}

/**
 * The token classes and estimate flag of an entry, only those that are set (so an entry without
 * them reads back exactly as written). Each class is capped at its whole, like the pricing does.
 */
function normalizeClasses(e: AttemptEntry): Partial<AttemptEntry> {
  if (e.estimated !== undefined && typeof e.estimated !== 'boolean')
    throw invalid('estimated must be a boolean');
  if (e.interrupted) return {};
  const out: Partial<AttemptEntry> = {};
  const cached = Math.min(count(e.cachedInputTokens ?? 0, 'cachedInputTokens'), e.inputTokens);
  const writes = Math.min(count(e.cacheWriteTokens ?? 0, 'cacheWriteTokens'), e.inputTokens - cached);
  const reasoning = Math.min(count(e.reasoningTokens ?? 0, 'reasoningTokens'), e.outputTokens);
  if (cached > 0) out.cachedInputTokens = cached;
  if (writes > 0) out.cacheWriteTokens = writes;
  if (reasoning > 0) out.reasoningTokens = reasoning;
  if (e.estimated) out.estimated = true;
  return out;
}

/** The model an entry is grouped under in usage (and in the workers' metrics). */
export function modelKey(e: Pick<AttemptEntry, 'kind' | 'model'>): string {
  if (e.kind === 'scrape') return SCRAPE_MODEL_KEY;
  return e.model ?? UNKNOWN_MODEL_KEY;
}

/** Format 1 (older versions wrote it; still read): positional JSON. */
type StoredV1 = [
  format: 1,
  lane: Lane,
  kind: AttemptKind,
  provider: string | null,
  model: string | null,
  proxyId: string | null,
  outcome: AttemptOutcome,
  interrupted: 0 | 1,
  latencyMs: number,
  inputTokens: number,
  outputTokens: number,
  bytes: number,
  costNanos: number,
  at: number,
];

const LANE_CODE: Record<Lane, string> = { interactive: 'i', batch: 'b' };
const KIND_CODE: Record<AttemptKind, string> = { completion: 'c', scrape: 's' };
const codeOf = <T extends string>(codes: Record<T, string>, code: string | undefined): T | undefined =>
  (Object.keys(codes) as T[]).find((k) => codes[k] === code);

/** A string field of format 2: `|` and `%` escaped; null is empty (stored strings are never empty). */
const esc = (v: string | null) => (v === null ? '' : v.replace(/%/g, '%25').replace(/\|/g, '%7C'));
const unesc = (v: string | undefined) => (v ? v.replace(/%7C/g, '|').replace(/%25/g, '%') : null);

/** Integers of format 2 in base 36 (a ms timestamp in 8 characters, not 13). */
const b36 = (n: number) => n.toString(36);
const fromB36 = (v: string | undefined) => (v && /^[0-9a-z]+$/.test(v) ? parseInt(v, 36) : NaN);

/**
 * Format 2: `2|lane|kind|provider|model|proxy|outcome|interrupted|latency|in|out|bytes|cost|at`,
 * lane and kind as one letter, integers in base 36. The job, tenant and attempt are already in
 * the key and field name.
 * A typical entry stays under Redis's `hash-max-listpack-value` (64 bytes), so a job's ledger hash
 * keeps the compact listpack encoding: under half the memory of a `hashtable` hash.
 * Format 3 is format 2 with `|cached in|cache writes|reasoning|estimated` appended, written only for
 * an entry that has one of them, so a plain entry stays as short as before.
 */
export function encodeEntry(e: AttemptEntry): string {
  const classes = [
    e.cachedInputTokens ?? 0,
    e.cacheWriteTokens ?? 0,
    e.reasoningTokens ?? 0,
    e.estimated ? 1 : 0,
  ];
  const format2 = encodeV2(e);
  if (classes.every((n) => n === 0)) return format2;
  return [FORMAT_CLASSES, format2.slice(2), ...classes.map(b36)].join('|');
}

function encodeV2(e: AttemptEntry): string {
  return [
    FORMAT,
    LANE_CODE[e.lane],
    KIND_CODE[e.kind],
    esc(e.provider),
    esc(e.model),
    esc(e.proxyId),
    e.outcome,
    ...[e.interrupted ? 1 : 0, e.latencyMs, e.inputTokens, e.outputTokens, e.bytes, e.costNanos, e.at].map(
      b36,
    ),
  ].join('|');
}

function corrupt(jobId: string, attempt: number): LedgerError {
  return new LedgerError('LEDGER_CORRUPT_ENTRY', `job ${jobId} attempt ${attempt}`);
}

export function decodeEntry(tenantId: string, jobId: string, attempt: number, raw: string): AttemptEntry {
  const base = { jobId, attempt, tenantId };
  if (raw.startsWith('[')) return { ...base, ...decodeV1(raw, jobId, attempt) };
  const f = raw.split('|');
  const lane = codeOf(LANE_CODE, f[1]);
  const kind = codeOf(KIND_CODE, f[2]);
  const nums = f.slice(7).map(fromB36);
  const withClasses = f[0] === String(FORMAT_CLASSES) && f.length === 18;
  if (
    !((f[0] === String(FORMAT) && f.length === 14) || withClasses) ||
    !lane ||
    !kind ||
    nums.some((n) => !Number.isSafeInteger(n))
  )
    throw corrupt(jobId, attempt);
  const [interrupted, latencyMs, inputTokens, outputTokens, bytes, costNanos, at] = nums;
  const [cached = 0, writes = 0, reasoning = 0, estimated = 0] = withClasses ? nums.slice(7) : [];
  return {
    ...base,
    ...(cached > 0 ? { cachedInputTokens: cached } : {}),
    ...(writes > 0 ? { cacheWriteTokens: writes } : {}),
    ...(reasoning > 0 ? { reasoningTokens: reasoning } : {}),
    ...(estimated === 1 ? { estimated: true } : {}),
    lane,
    kind,
    provider: unesc(f[3]),
    model: unesc(f[4]),
    proxyId: unesc(f[5]),
    outcome: f[6] as AttemptOutcome,
    interrupted: interrupted === 1,
    latencyMs: latencyMs ?? 0,
    inputTokens: inputTokens ?? 0,
    outputTokens: outputTokens ?? 0,
    bytes: bytes ?? 0,
    costNanos: costNanos ?? 0,
    at: at ?? 0,
  };
}

function decodeV1(raw: string, jobId: string, attempt: number) {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v[0] !== 1 || v.length !== 14) throw corrupt(jobId, attempt);
  const s = v as StoredV1;
  return {
    lane: s[1],
    kind: s[2],
    provider: s[3],
    model: s[4],
    proxyId: s[5],
    outcome: s[6],
    interrupted: s[7] === 1,
    latencyMs: s[8],
    inputTokens: s[9],
    outputTokens: s[10],
    bytes: s[11],
    costNanos: s[12],
    at: s[13],
  };
}
