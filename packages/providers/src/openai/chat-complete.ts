import { request } from 'undici';
import { ACCEPT_ENCODING, readDecoded } from '../content-decoding.ts';
import type { ChatCall, ChatResult } from '../types.ts';
import { parseRetryAfter, UpstreamBadResponseError, UpstreamHttpError } from '../upstream-errors.ts';
import { chatCompletionsUrl, headers, MAX_ANSWER_BYTES } from './api.ts';
import { fromOpenAiUsage, type OpenAiUsage } from './usage.ts';

interface OpenAiChatResponse {
  choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: OpenAiUsage;
  error?: { type?: string; code?: string };
}

/**
 * Non-streaming chat completion against any OpenAI-compatible API. undici retries nothing. The
 * answer is asked for compressed (OpenAI and most compatible servers gzip JSON) and decoded as it
 * streams; `bytes` counts the wire, what a proxy bills.
 */
export async function chatComplete(call: ChatCall): Promise<ChatResult> {
  const body = JSON.stringify({ ...call.request, model: call.upstreamModel, stream: false });
  const res = await request(chatCompletionsUrl(call.baseUrl), {
    method: 'POST',
    headers: { ...headers(call.apiKey), 'accept-encoding': ACCEPT_ENCODING },
    body,
    dispatcher: call.dispatcher,
    signal: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
  });
  const decoded = await readDecoded(res.body, {
    contentEncoding: res.headers['content-encoding'],
    maxBytes: MAX_ANSWER_BYTES,
  });
  const text = decoded.body.toString('utf8');
  const bytes = decoded.wireBytes;
  let parsed: OpenAiChatResponse | undefined;
  try {
    parsed = JSON.parse(text) as OpenAiChatResponse;
  } catch {
    parsed = undefined;
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new UpstreamHttpError(res.statusCode, {
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      upstreamCode: parsed?.error?.code ?? parsed?.error?.type,
    });
  }
  if (!parsed) throw new UpstreamBadResponseError('malformed', 'the upstream answer is not JSON');
  if (parsed.error) {
    throw new UpstreamBadResponseError(
      'error_in_body',
      `the upstream answered 200 with an error (${parsed.error.type ?? parsed.error.code ?? 'unknown'})`,
    );
  }
  const choice = parsed.choices?.[0];
  if (!choice || !parsed.usage)
    throw new UpstreamBadResponseError('malformed', 'the upstream answer has no choices or no usage');
  return {
    content: choice.message?.content ?? null,
    finishReason: choice.finish_reason ?? null,
    usage: fromOpenAiUsage(parsed.usage),
    bytes,
  };
}
