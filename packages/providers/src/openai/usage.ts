import type { Usage } from '@switchyard/contracts';

/** OpenAI's `usage` object, with the token-class details its newer models report. */
export interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** OpenAI usage → ours: cached tokens are a part of the prompt, reasoning a part of the completion. */
export function fromOpenAiUsage(u: OpenAiUsage): Usage {
  const usage: Usage = { input_tokens: u.prompt_tokens ?? 0, output_tokens: u.completion_tokens ?? 0 };
  const cached = u.prompt_tokens_details?.cached_tokens;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  if (cached) usage.cached_input_tokens = cached;
  if (reasoning) usage.reasoning_tokens = reasoning;
  return usage;
}
