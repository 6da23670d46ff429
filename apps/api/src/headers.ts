import { SwitchyardError } from '@switchyard/contracts';

/** Idempotency-Key: 1–255 visible ASCII characters. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new SwitchyardError('invalid_header', 'send one Idempotency-Key header');
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw new SwitchyardError('invalid_header', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return value;
}

/**
 * The `wait` preference of a Prefer header (RFC 7240), in seconds, capped. Preferences that are
 * unknown or malformed are ignored, as the RFC asks.
 */
export function parsePreferWait(
  value: string | string[] | undefined,
  maxSeconds: number,
): number | undefined {
  const all = Array.isArray(value) ? value.join(',') : value;
  if (!all) return undefined;
  for (const pref of all.split(',')) {
    const [token, raw] = (pref.split(';')[0] ?? '').split('=').map((s) => s.trim());
    if (token?.toLowerCase() !== 'wait' || raw === undefined) continue;
    const unquoted = raw.replace(/^"(.*)"$/, '$1');
    if (!/^\d{1,6}$/.test(unquoted)) continue;
    return Math.min(Number(unquoted), maxSeconds);
  }
  return undefined;
}
