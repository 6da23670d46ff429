import { LedgerError } from './errors.ts';

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Longest range `usage()` reads, counting both ends. */
export const MAX_USAGE_DAYS = 366;

/** The UTC calendar day of an epoch-ms instant, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms >= 253_402_300_800_000) {
    throw new LedgerError('LEDGER_INVALID_QUERY', `no UTC day for ${ms}`);
  }
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a `YYYY-MM-DD` day, in epoch ms; throws on anything that is not a real day. */
export function parseDay(day: string): number {
  if (typeof day !== 'string' || !DAY_PATTERN.test(day)) {
    throw new LedgerError('LEDGER_INVALID_QUERY', `day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(ms) || utcDay(ms) !== day) {
    throw new LedgerError('LEDGER_INVALID_QUERY', `${day} is not a calendar day`);
  }
  return ms;
}

/** Every day from `from` to `to`, both included; at most {@link MAX_USAGE_DAYS}. */
export function dayRange(from: string, to: string): string[] {
  const start = parseDay(from);
  const end = parseDay(to);
  if (start > end) throw new LedgerError('LEDGER_INVALID_QUERY', `from ${from} is after to ${to}`);
  const count = (end - start) / DAY_MS + 1;
  if (count > MAX_USAGE_DAYS) {
    throw new LedgerError('LEDGER_INVALID_QUERY', `${count} days requested, at most ${MAX_USAGE_DAYS}`);
  }
  return Array.from({ length: count }, (_, i) => utcDay(start + i * DAY_MS));
}
