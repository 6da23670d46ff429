import {
  ERROR_CATALOG,
  isErrorCode,
  type CompletionResult,
  type JobRecord,
  type Usage,
} from '@switchyard/contracts';

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export function stopReasonOf(finishReason: string | null | undefined): string {
  if (finishReason === 'length') return 'max_tokens';
  if (finishReason === 'tool_calls') return 'tool_use';
  if (finishReason === 'content_filter') return 'refusal';
  return 'end_turn';
}

/** Our usage in Anthropic's shape: its `input_tokens` excludes the cache reads and writes. */
export function anthropicUsage(usage: Usage) {
  const cached = usage.cached_input_tokens ?? 0;
  const writes = usage.cache_write_tokens ?? 0;
  return {
    input_tokens: usage.input_tokens - cached - writes,
    cache_creation_input_tokens: writes,
    cache_read_input_tokens: cached,
    output_tokens: usage.output_tokens,
  };
}

/** The `message` object of a succeeded job. */
export function messageOf(job: Pick<JobRecord, 'id'>, r: CompletionResult) {
  return {
    id: `msg_${job.id}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model: r.model,
    content: [{ type: 'text' as const, text: r.message.content ?? '' }],
    stop_reason: stopReasonOf(r.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(r.usage),
  };
}

function errorType(status: number): string {
  if (status === 400 || status === 409 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'overloaded_error';
  return 'api_error';
}

/**
 * An Anthropic error body and status for a catalog code: `error.type` is Anthropic's (so its SDKs
 * raise their usual exceptions), `error.code` stays Switchyard's stable code.
 */
export function anthropicError(code: string, message: string) {
  const known = isErrorCode(code) ? code : 'internal_error';
  const status = ERROR_CATALOG[known].status;
  return {
    status,
    body: { type: 'error' as const, error: { type: errorType(status), message, code: known } },
  };
}

/** One server-sent event with its `event:` line, as the Messages API streams them. */
export const sseEvent = (payload: { type: string } & Record<string, unknown>) =>
  `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;
