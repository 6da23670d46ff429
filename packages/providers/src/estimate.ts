import type { CompletionRequest, Usage } from '@switchyard/contracts';

/** Tokens a chat format adds per message (role and separators), as OpenAI's cookbook counts them. */
const TOKENS_PER_MESSAGE = 3;
/** Tokens that prime the assistant's reply. */
const REPLY_PRIMING = 3;

type CountTokens = (text: string) => number;
let counter: Promise<CountTokens> | undefined;

/**
 * `gpt-tokenizer`'s counter, loaded on the first estimate: its vocabulary costs a process tens of
 * megabytes, which a worker whose streams never break should not pay. Should it fail to load, a
 * rough count (4 characters a token) stands in: an estimate is never skipped.
 */
function countTokens(): Promise<CountTokens> {
  counter ??= import('gpt-tokenizer').then(
    (m) => (text: string) => m.countTokens(text),
    () => (text: string) => Math.ceil(text.length / 4),
  );
  return counter;
}

function text(content: CompletionRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => p.text).join('\n');
}

/**
 * Usage of a stream cut before its usage arrived, estimated with `gpt-tokenizer` (o200k_base) from
 * the request and the text received. Cache and reasoning tokens cannot be seen, so the estimate
 * prices every input token as uncached and every output token as visible output.
 */
export async function estimateUsage(request: CompletionRequest, received: string): Promise<Usage> {
  const count = await countTokens();
  let input = REPLY_PRIMING;
  for (const m of request.messages) input += count(text(m.content)) + TOKENS_PER_MESSAGE;
  return { input_tokens: input, output_tokens: received === '' ? 0 : count(received) };
}
