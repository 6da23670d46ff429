import { DecodedBodyStream, ResponseTooLargeError } from '../content-decoding.ts';
import { MAX_ANSWER_BYTES } from '../openai/api.ts';
import type { ChatCall, ChatResult } from '../types.ts';
import { markPartialStream, UpstreamBadResponseError } from '../upstream-errors.ts';
import { finishReasonOf, fromAnthropicUsage, type AnthropicErrorBody, type AnthropicUsage } from './api.ts';
import { sendMessages } from './messages.ts';

interface StreamEvent extends AnthropicErrorBody {
  message?: { usage?: AnthropicUsage };
  delta?: { type?: string; text?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
}

/** What a Messages stream has said so far. */
class StreamState {
  content = '';
  stopReason: string | null = null;
  usage: AnthropicUsage = {};
  done = false;

  /** Applies one event; text deltas go to `onDelta`. */
  apply(ev: StreamEvent, onDelta: (text: string) => void): void {
    switch (ev.type) {
      case 'message_start':
        this.usage = { ...ev.message?.usage };
        return;
      case 'content_block_delta':
        if (ev.delta?.type === 'text_delta' && ev.delta.text) {
          this.content += ev.delta.text;
          onDelta(ev.delta.text);
        }
        return;
      case 'message_delta':
        this.stopReason = ev.delta?.stop_reason ?? this.stopReason;
        // Counters in message_delta are cumulative totals: present ones replace, never add.
        for (const [k, v] of Object.entries(ev.usage ?? {})) {
          if (v !== null && v !== undefined) (this.usage as Record<string, unknown>)[k] = v;
        }
        return;
      case 'message_stop':
        this.done = true;
        return;
      case 'error':
        throw new UpstreamBadResponseError(
          'error_in_body',
          `the upstream streamed an error (${ev.error?.type ?? 'unknown'})`,
        );
    }
  }
}

/**
 * Streaming Messages call: `message_start` carries the input usage, `content_block_delta` the
 * text, `message_delta` the stop reason and final output usage, `message_stop` the end. A stream
 * that ends before `message_stop` is cut: its error carries the text received
 * (`partialStreamText`), so its tokens can be estimated.
 */
export async function messagesStream(call: ChatCall, onDelta: (text: string) => void): Promise<ChatResult> {
  const res = await sendMessages(call, true);
  const state = new StreamState();
  const decoded = new DecodedBodyStream(res.body, res.headers['content-encoding']);
  let decodedBytes = 0;
  let buffered = '';
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
        if (!line.startsWith('data:')) continue;
        let ev: StreamEvent;
        try {
          ev = JSON.parse(line.slice(5).trim()) as StreamEvent;
        } catch {
          throw new UpstreamBadResponseError('malformed', 'a stream event is not JSON');
        }
        state.apply(ev, onDelta);
      }
    }
    if (!state.done) throw new UpstreamBadResponseError('stream_cut', 'the stream ended before message_stop');
  } catch (err) {
    const errorEvent = err instanceof UpstreamBadResponseError && err.reason === 'error_in_body';
    throw errorEvent ? err : markPartialStream(err, state.content);
  }
  return {
    content: state.content,
    finishReason: finishReasonOf(state.stopReason),
    usage: fromAnthropicUsage(state.usage),
    bytes: decoded.wireBytes,
  };
}
