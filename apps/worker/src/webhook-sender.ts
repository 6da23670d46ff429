import { EVENT_ID_HEADER, SIGNATURE_HEADER, signPayload } from '@switchyard/contracts';
import { request, type Dispatcher } from 'undici';

const USER_AGENT = 'Switchyard-Webhooks/1';

export interface WebhookPost {
  /** Where the request goes: the URL with its host replaced by the address the guard checked. */
  url: string;
  /** The URL's own `host`, sent as the Host header (and so the TLS server name). */
  host: string;
  eventId: string;
  /** The exact bytes that are signed and sent. */
  body: string;
  secret: string;
  /** For the whole attempt: connect, send, the receiver's answer. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  now?: () => number;
}

/**
 * One delivery attempt: POSTs the signed event and returns the receiver's status code, or throws
 * on a network failure or timeout. No retries here (BullMQ schedules them) and no redirects (a
 * 3xx is a failed attempt); the receiver's answer body is discarded unread.
 */
export async function postWebhook(post: WebhookPost): Promise<number> {
  const timestamp = Math.floor((post.now ?? Date.now)() / 1000);
  const res = await request(post.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      host: post.host,
      [EVENT_ID_HEADER]: post.eventId,
      [SIGNATURE_HEADER]: signPayload(post.secret, post.body, timestamp),
    },
    body: post.body,
    dispatcher: post.dispatcher,
    signal: AbortSignal.timeout(post.timeoutMs),
    headersTimeout: post.timeoutMs,
    bodyTimeout: post.timeoutMs,
  });
  await res.body.dump().catch(() => undefined);
  return res.statusCode;
}

/** A short, safe name for a failed attempt's cause (never its message, which may carry the URL). */
export function failureCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, name } = err as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'unknown';
}
