import type { JobRecord, Usage } from '@switchyard/contracts';

/**
 * The OpenAI `chat.completion` object for a succeeded job; `cached: true` (Switchyard's own field,
 * which SDKs ignore) when the response cache answered it.
 */
export function chatCompletion(job: Pick<JobRecord, 'id' | 'created_at' | 'result'>) {
  const r = job.result?.type === 'completion' ? job.result : undefined;
  const usage = r?.usage ?? { input_tokens: 0, output_tokens: 0 };
  return {
    id: `chatcmpl-${job.id}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.parse(job.created_at) / 1000),
    model: r?.model ?? '',
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: r?.message.content ?? null, refusal: null },
        finish_reason: r?.finish_reason ?? 'stop',
        logprobs: null,
      },
    ],
    usage: openAiUsage(usage),
    ...(r?.cached ? { cached: true as const } : {}),
  };
}

/** Our usage in OpenAI's shape, with the cached and reasoning details when there are any. */
export function openAiUsage(usage: Usage) {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    ...(usage.cached_input_tokens
      ? { prompt_tokens_details: { cached_tokens: usage.cached_input_tokens } }
      : {}),
    ...(usage.reasoning_tokens
      ? { completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens } }
      : {}),
  };
}

/** One `chat.completion.chunk`. */
export function chunk(
  base: { id: string; created: number; model: string },
  delta: Record<string, unknown>,
  finishReason: string | null = null,
) {
  return {
    id: base.id,
    object: 'chat.completion.chunk' as const,
    created: base.created,
    model: base.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  };
}
