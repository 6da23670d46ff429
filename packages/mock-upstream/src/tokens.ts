/**
 * The mock's "tokenizer": deliberately simple and deterministic so a test can predict every number.
 * One token = one whitespace-separated word. No real tokenizer is imitated.
 */

/** Message content as the Chat Completions API accepts it: a string, text parts, or nothing. */
export type MessageContent = string | ReadonlyArray<{ type?: unknown; text?: unknown }> | null | undefined;

export interface ChatMessage {
  role: string;
  content?: MessageContent;
}

/** Fixed overhead per message, standing in for role and separator tokens. */
export const TOKENS_PER_MESSAGE = 3;

const FILLER = 'this is a deterministic mock reply from switchyard and not a real model'.split(' ');
const ECHO_WORDS = 8;

export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** The text of a message: the string itself, or its `text` parts joined with spaces. */
export function contentText(content: MessageContent): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .filter((t) => t.length > 0)
    .join(' ');
}

/** prompt tokens = words across all message contents + 3 per message. */
export function countPromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + words(contentText(m.content)).length + TOKENS_PER_MESSAGE, 0);
}

/**
 * The full answer, exactly `answerWords` words: "demo answer to: <first 8 words of the last user
 * message>", padded with a fixed filler sentence (cycled) or truncated to length.
 */
export function demoAnswerWords(messages: readonly ChatMessage[], answerWords: number): string[] {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const echo = words(contentText(lastUser?.content)).slice(0, ECHO_WORDS);
  const out = ['demo', 'answer', 'to:', ...(echo.length > 0 ? echo : ['nothing'])];
  for (let i = 0; out.length < answerWords; i++) out.push(FILLER[i % FILLER.length] ?? '');
  return out.slice(0, answerWords);
}

export interface CompletionPlan {
  /** The words the mock will send, after the max-tokens cap. */
  words: string[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
  /** Every output token: the words sent plus `reasoningTokens`. */
  completionTokens: number;
  totalTokens: number;
  /** Parts of `promptTokens` read from / written to the prompt cache (see token-classes.ts). */
  cachedTokens: number;
  cacheWriteTokens: number;
  /** Hidden reasoning tokens, a part of `completionTokens`. */
  reasoningTokens: number;
  /** Report the token-class details in usage (only when the mock bills token classes). */
  details: boolean;
}

/**
 * What one request will be answered with: words, finish reason and usage. With `fixed` (the
 * model's set answer) the answer is that text's words instead of the demo answer.
 */
export function planCompletion(
  messages: readonly ChatMessage[],
  answerWords: number,
  maxTokens: number | undefined,
  fixed?: string,
): CompletionPlan {
  const full = fixed !== undefined ? words(fixed) : demoAnswerWords(messages, answerWords);
  const sent = maxTokens !== undefined && maxTokens < full.length ? full.slice(0, maxTokens) : full;
  const promptTokens = countPromptTokens(messages);
  return {
    words: sent,
    finishReason: sent.length < full.length ? 'length' : 'stop',
    promptTokens,
    completionTokens: sent.length,
    totalTokens: promptTokens + sent.length,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    details: false,
  };
}
