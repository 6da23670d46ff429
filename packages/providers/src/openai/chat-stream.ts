import { request } from 'undici';
import { DecodedBodyStream, ResponseTooLargeError } from '../content-decoding.ts';
import type { ChatCall, ChatResult } from '../types.ts';
import {
  markPartialStream,
  parseRetryAfter,
  UpstreamBadResponseError,
  UpstreamHttpError,
} from '../upstream-errors.ts';
import { chatCompletionsUrl, headers, MAX_ANSWER_BYTES } from './api.ts';
import { fromOpenAiUsage, type OpenAiUsage } from './usage.ts';

interface Chunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: OpenAiUsage | null;
  error?: { type?: string; code?: string };
}

/**
 * Streaming chat completion: relays each content delta through `onDelta` as it arrives, and asks
 * the provider for usage in the stream (`stream_options.include_usage`) so streamed tokens are
 * billed exactly. A stream that ends before its usage chunk and `[DONE]` is a cut stream: its
 * error is marked with the text received (`partialStreamText`), so its tokens can be estimated. No
 * compression is asked for (a compressing server may hold deltas back to fill its blocks), but a
 * server that compresses anyway is decoded as the events arrive.
 */
export async function chatStream(call: ChatCall, onDelta: (text: string) => void): Promise<ChatResult> {
  const body = JSON.stringify({
    ...call.request,
    model: call.upstreamModel,
    stream: true,
    stream_options: { include_usage: true },
  });
  const res = await request(chatCompletionsUrl(call.baseUrl), {
    method: 'POST',
    headers: { ...headers(call.apiKey), accept: 'text/event-stream' },
    body,
    dispatcher: call.dispatcher,
    signal: AbortSignal.any([call.signal, AbortSignal.timeout(call.timeoutMs)]),
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
  });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump();
    throw new UpstreamHttpError(res.statusCode, {
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    });
  }
  let buffered = '';
  let content = '';
  let finishReason: string | null = null;
  let usage: ChatResult['usage'] | undefined;
  let done = false;
  const onEvent = (data: string) => {
    if (data === '[DONE]') {
      done = true;
      return;
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      throw new UpstreamBadResponseError('malformed', 'a stream event is not JSON');
    }
    if (chunk.error)
      throw new UpstreamBadResponseError(
        'error_in_body',
        `the upstream streamed an error (${chunk.error.type ?? chunk.error.code ?? 'unknown'})`,
      );
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content;
    if (text) {
      content += text;
      onDelta(text);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.usage) usage = fromOpenAiUsage(chunk.usage);
  };
  const decoded = new DecodedBodyStream(res.body, res.headers['content-encoding']);
  let decodedBytes = 0;
  try {
    for await (const piece of decoded) {
      decodedBytes += piece.length;
      if (decodedBytes > MAX_ANSWER_BYTES) {
        decoded.destroy();
        throw new ResponseTooLargeError(MAX_ANSWER_BYTES);
      }
      buffered += piece.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('data:')) onEvent(line.slice(5).trim());
      }
    }
    if (!done || !usage)
      throw new UpstreamBadResponseError('stream_cut', 'the stream ended before its usage chunk and [DONE]');
  } catch (err) {
    // An error event is the upstream's answer, not a cut: what it bills for it is unknown.
    const errorEvent = err instanceof UpstreamBadResponseError && err.reason === 'error_in_body';
    throw errorEvent ? err : markPartialStream(err, content);
  }
  return { content, finishReason, usage, bytes: decoded.wireBytes };
}
