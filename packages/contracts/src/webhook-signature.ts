import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'Switchyard-Signature';
/** The header that carries the event id (also `id` in the body); receivers dedupe on it. */
export const EVENT_ID_HEADER = 'Switchyard-Event-Id';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

type RawBody = string | Uint8Array;

function hmacHex(secret: string, timestamp: number, rawBody: RawBody): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * The `Switchyard-Signature` value for a body: HMAC-SHA256 keyed with the whole secret
 * (`whsec_…`, as UTF-8) over `<t>.<raw body>`, hex-encoded.
 */
export function signPayload(secret: string, rawBody: RawBody, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`timestamp must be whole unix seconds, got ${timestamp}`);
  }
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, rawBody)}`;
}

/**
 * True when `header` is a valid signature of `rawBody` (the bytes exactly as received, before
 * any JSON parsing) under `secret`, made within `toleranceSeconds` of now. The timestamp is part
 * of the signed text, so an old event replayed later fails here; dedupe on the event id for
 * replays inside the window. Several `v1=` entries are accepted (any one may match).
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  rawBody: RawBody,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (!secret || typeof header !== 'string') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || !signatures.length) return false;
  if (Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
