import type { CompletionRequest, Usage } from '@switchyard/contracts';
import { countTokens } from 'gpt-tokenizer';

/** Tokens a chat format adds per message (role and separators), as OpenAI's cookbook counts them. */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant's reply. */
const REPLY_PRIMING = 3;

function text(content: CompletionRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => p.text).join('\n');
}

/**
 * Usage of a stream cut before its usage arrived, estimated with `gpt-tokenizer` (o200k_base) from
 * the request and the text received. Cache and reasoning tokens cannot be seen, so the estimate
 * prices every input token as uncached and every output token as visible output.
 */
export function estimateUsage(request: CompletionRequest, received: string): Usage {
  let input = REPLY_PRIMING;
  for (const m of request.messages) input += countTokens(text(m.content)) + TOKENS_PER_MESSAGE;
  return { input_tokens: input, output_tokens: received === '' ? 0 : countTokens(received) };
}
