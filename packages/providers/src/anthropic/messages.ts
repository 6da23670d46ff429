import { request } from 'undici';
import { ACCEPT_ENCODING, readDecoded } from '../content-decoding.ts';
import { MAX_ANSWER_BYTES } from '../openai/api.ts';
import type { ChatCall, ChatResult } from '../types.ts';
import { parseRetryAfter, UpstreamBadResponseError, UpstreamHttpError } from '../upstream-errors.ts';
import {
  finishReasonOf,
  fromAnthropicUsage,
  headers,
  messagesUrl,
  type AnthropicErrorBody,
  type AnthropicUsage,
} from './api.ts';
import { toAnthropicRequest } from './request.ts';

interface MessageResponse extends AnthropicErrorBody {
  content?: { type?: string; text?: string }[];
  stop_reason?: string | null;
  usage?: AnthropicUsage;
}

/** Sends one Messages request; a non-2xx answer throws with its status and Retry-After. */
export async function sendMessages(call: ChatCall, stream: boolean) {
  const res = await request(messagesUrl(call.baseUrl), {
    method: 'POST',
    // A whole answer is asked for compressed; a stream is not (a compressing server may hold
    // events back to fill its blocks), though one compressed anyway is decoded as it arrives.
    headers: {
      ...headers(call.apiKey),
      ...(stream ? { accept: 'text/event-stream' } : { 'accept-encoding': ACCEPT_ENCODING }),
    },
    body: JSON.stringify(toAnthropicRequest(call.request, call.upstreamModel, stream)),
    dispatcher: call.dispatcher,
    signal: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
  });
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  const text = await readDecoded(res.body, {
    contentEncoding: res.headers['content-encoding'],
    maxBytes: 64 * 1024,
    truncate: true,
  })
    .then((d) => d.body.toString('utf8'))
    .catch(() => '');
  let parsed: AnthropicErrorBody | undefined;
  try {
    parsed = JSON.parse(text) as AnthropicErrorBody;
  } catch {
    parsed = undefined;
  }
  // 529 overloaded_error is a 5xx: the classifier's upstream fault, retried like any other.
  throw new UpstreamHttpError(res.statusCode, {
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    upstreamCode: parsed?.error?.type,
  });
}

/** Non-streaming Messages call: the text blocks joined are the answer; `bytes` counts the wire. */
export async function messagesComplete(call: ChatCall): Promise<ChatResult> {
  const res = await sendMessages(call, false);
  const decoded = await readDecoded(res.body, {
    contentEncoding: res.headers['content-encoding'],
    maxBytes: MAX_ANSWER_BYTES,
  });
  const text = decoded.body.toString('utf8');
  let parsed: MessageResponse | undefined;
  try {
    parsed = JSON.parse(text) as MessageResponse;
  } catch {
    throw new UpstreamBadResponseError('malformed', 'the upstream answer is not JSON');
  }
  if (parsed.type === 'error' || parsed.error)
    throw new UpstreamBadResponseError(
      'error_in_body',
      `the upstream answered 200 with an error (${parsed.error?.type ?? 'unknown'})`,
    );
  if (!Array.isArray(parsed.content) || !parsed.usage)
    throw new UpstreamBadResponseError('malformed', 'the upstream answer has no content or no usage');
  const blocks = parsed.content.filter((b) => b.type === 'text' && typeof b.text === 'string');
  return {
    content: blocks.map((b) => b.text).join(''),
    finishReason: finishReasonOf(parsed.stop_reason),
    usage: fromAnthropicUsage(parsed.usage),
    bytes: decoded.wireBytes,
  };
}
