import type { CompletionPlan } from './tokens.ts';

/** Response bodies in the OpenAI Chat Completions shapes. */

export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): OpenAiError {
  return { error: { message, type, param, code } };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

/** Usage as OpenAI reports it; the details only when the mock bills token classes. */
export function usageOf(plan: CompletionPlan): Usage {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.totalTokens,
    ...(plan.details
      ? {
          prompt_tokens_details: { cached_tokens: plan.cachedTokens },
          completion_tokens_details: { reasoning_tokens: plan.reasoningTokens },
        }
      : {}),
  };
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

export const SYSTEM_FINGERPRINT = 'fp_mock';

export function completionBody(meta: CompletionMeta, plan: CompletionPlan) {
  return {
    id: meta.id,
    object: 'chat.completion' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: plan.words.join(' '), refusal: null },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: usageOf(plan),
  };
}

export type ChunkDelta = { role?: 'assistant'; content?: string };

/**
 * One `chat.completion.chunk`. With `include_usage` every chunk but the last carries `usage: null`,
 * as the real API does; the last has `choices: []` and the usage.
 */
export function chunkBody(
  meta: CompletionMeta,
  includeUsage: boolean,
  delta: ChunkDelta,
  finishReason: string | null = null,
) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

export function usageChunkBody(meta: CompletionMeta, plan: CompletionPlan) {
  return {
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [],
    usage: usageOf(plan),
  };
}

export const serverErrorBody = () =>
  errorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null);

export const rateLimitBody = () =>
  errorBody('Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded');
