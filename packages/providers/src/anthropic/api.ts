import type { Usage } from '@switchyard/contracts';

/** The Messages API version every request names (`anthropic-version`). */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * `max_tokens` is required by the Messages API; an OpenAI-shaped request without one gets this.
 */
export const DEFAULT_MAX_TOKENS = 4096;

export function messagesUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/messages`;
}

export function headers(apiKey: string | undefined): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
  };
  if (apiKey) h['x-api-key'] = apiKey;
  return h;
}

/** Anthropic's `usage`: `input_tokens` excludes the tokens read from and written to the cache. */
export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/** Anthropic usage → ours, where cached and cache-write tokens are parts of `input_tokens`. */
export function fromAnthropicUsage(u: AnthropicUsage): Usage {
  const cached = u.cache_read_input_tokens ?? 0;
  const writes = u.cache_creation_input_tokens ?? 0;
  const usage: Usage = {
    input_tokens: (u.input_tokens ?? 0) + cached + writes,
    output_tokens: u.output_tokens ?? 0,
  };
  if (cached) usage.cached_input_tokens = cached;
  if (writes) usage.cache_write_tokens = writes;
  const thinking = u.output_tokens_details?.thinking_tokens;
  if (thinking) usage.reasoning_tokens = thinking;
  return usage;
}

/** Anthropic `stop_reason` → OpenAI `finish_reason`. */
export function finishReasonOf(stopReason: string | null | undefined): string | null {
  if (!stopReason) return null;
  if (stopReason === 'max_tokens' || stopReason === 'model_context_window_exceeded') return 'length';
  if (stopReason === 'tool_use') return 'tool_calls';
  if (stopReason === 'refusal') return 'content_filter';
  return 'stop';
}

/** The error object of an Anthropic error body (`{ type: 'error', error: { type, message } }`). */
export interface AnthropicErrorBody {
  type?: string;
  error?: { type?: string; message?: string };
}
