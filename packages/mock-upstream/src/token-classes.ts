import { countPromptTokens, type ChatMessage, type CompletionPlan } from './tokens.ts';

/** What makes the mock bill token classes beyond plain prompt and completion tokens. */
export interface TokenClassOptions {
  /**
   * A prompt cache: the prefix of a request (every message but the last, the system prompt
   * included) is written to the cache the first time it is answered and read from it afterwards.
   */
  promptCache?: boolean;
  /** Hidden reasoning tokens billed as output with every answer. Default 0. */
  reasoningTokens?: number;
}

/**
 * The mock's prompt cache, per model. Deterministic for a given order of requests: the first
 * answer of a prefix writes it, later ones read it.
 */
export class PromptCache {
  readonly #seen = new Set<string>();

  /** The prefix's tokens and whether they were already cached; remembers the prefix. */
  use(model: string, prefix: readonly ChatMessage[]): { tokens: number; hit: boolean } {
    const tokens = prefix.length === 0 ? 0 : countPromptTokens(prefix);
    if (tokens === 0) return { tokens, hit: false };
    const key = `${model}\n${JSON.stringify(prefix)}`;
    const hit = this.#seen.has(key);
    this.#seen.add(key);
    return { tokens, hit };
  }

  clear(): void {
    this.#seen.clear();
  }
}

/**
 * Adds the token classes to a plan. `writesBilled` is true for providers that bill cache writes
 * (Anthropic); OpenAI caches for free and bills only the reads, at a discount.
 */
export function withTokenClasses(
  plan: CompletionPlan,
  opts: TokenClassOptions,
  cache: { tokens: number; hit: boolean },
  writesBilled: boolean,
): CompletionPlan {
  const reasoningTokens = opts.reasoningTokens ?? 0;
  const details = opts.promptCache === true || reasoningTokens > 0;
  if (!details) return plan;
  const cachedTokens = opts.promptCache && cache.hit ? cache.tokens : 0;
  const cacheWriteTokens = opts.promptCache && !cache.hit && writesBilled ? cache.tokens : 0;
  const completionTokens = plan.completionTokens + reasoningTokens;
  return {
    ...plan,
    completionTokens,
    totalTokens: plan.promptTokens + completionTokens,
    cachedTokens,
    cacheWriteTokens,
    reasoningTokens,
    details,
  };
}

/** What a complete answer bills. */
export const billOf = (plan: CompletionPlan) => ({
  promptTokens: plan.promptTokens,
  completionTokens: plan.completionTokens,
  cachedPromptTokens: plan.cachedTokens,
  cacheWriteTokens: plan.cacheWriteTokens,
  reasoningTokens: plan.reasoningTokens,
});

/** What a stream cut after `wordsSent` words bills: the prompt, the reasoning and the words sent. */
export const cutBillOf = (plan: CompletionPlan, wordsSent: number) => ({
  promptTokens: plan.promptTokens,
  completionTokens: plan.reasoningTokens + wordsSent,
});
