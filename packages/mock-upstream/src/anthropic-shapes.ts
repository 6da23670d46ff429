import type { CompletionPlan } from './tokens.ts';

/** Response bodies and stream events in the Anthropic Messages API shapes. */

/** Error `type` by HTTP status, as the Messages API names them. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? 'api_error';
}

export function anthropicError(type: string, message: string) {
  return { type: 'error' as const, error: { type, message }, request_id: 'req_mock' };
}

/** Usage as Anthropic reports it: `input_tokens` excludes the cache reads and writes. */
export function anthropicUsage(plan: CompletionPlan, outputTokens = plan.completionTokens) {
  return {
    input_tokens: plan.promptTokens - plan.cachedTokens - plan.cacheWriteTokens,
    cache_creation_input_tokens: plan.cacheWriteTokens,
    cache_read_input_tokens: plan.cachedTokens,
    output_tokens: outputTokens,
    ...(plan.details ? { output_tokens_details: { thinking_tokens: plan.reasoningTokens } } : {}),
  };
}

const stopReason = (plan: CompletionPlan) => (plan.finishReason === 'length' ? 'max_tokens' : 'end_turn');

export interface MessageMeta {
  id: string;
  model: string;
}

export function messageBody(meta: MessageMeta, plan: CompletionPlan) {
  return {
    id: meta.id,
    type: 'message' as const,
    role: 'assistant' as const,
    model: meta.model,
    content: [{ type: 'text' as const, text: plan.words.join(' ') }],
    stop_reason: stopReason(plan),
    stop_sequence: null,
    usage: anthropicUsage(plan),
  };
}

/** One server-sent event: the `event:` line names the type, as the Messages API sends them. */
export function sseEvent(payload: { type: string }): string {
  return `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** `message_start` (with the input usage), `content_block_start` and a `ping`. */
export function streamHead(meta: MessageMeta, plan: CompletionPlan): string {
  const message = {
    ...messageBody(meta, plan),
    content: [],
    stop_reason: null,
    usage: anthropicUsage(plan, 1),
  };
  return (
    sseEvent({ type: 'message_start', message } as { type: string }) +
    sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as {
      type: string;
    }) +
    sseEvent({ type: 'ping' })
  );
}

export function textDelta(text: string): string {
  return sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } as {
    type: string;
  });
}

/** `content_block_stop`, `message_delta` (stop reason and final usage) and `message_stop`. */
export function streamTail(plan: CompletionPlan): string {
  return (
    sseEvent({ type: 'content_block_stop', index: 0 } as { type: string }) +
    sseEvent({
      type: 'message_delta',
      delta: { stop_reason: stopReason(plan), stop_sequence: null },
      usage: anthropicUsage(plan),
    } as { type: string }) +
    sseEvent({ type: 'message_stop' })
  );
}
