import type { Usage } from '@switchyard/contracts';

export interface TokenPrices {
  /** USD per million input tokens (uncached, not written to a cache). */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
  /** USD per million input tokens read from the provider's prompt cache; default `inputPerMTok`. */
  cachedInputPerMTok?: number | undefined;
  /** USD per million input tokens written to the provider's prompt cache; default `inputPerMTok`. */
  cacheWritePerMTok?: number | undefined;
  /** USD per million reasoning tokens; default `outputPerMTok` (they are output tokens). */
  reasoningPerMTok?: number | undefined;
}

/** Tokens of one answer split into the classes that are priced apart; they add up to the total. */
export interface TokenClasses {
  uncachedInput: number;
  cachedInput: number;
  cacheWrite: number;
  /** Output tokens that are not reasoning tokens. */
  visibleOutput: number;
  reasoning: number;
}

/** USD per million tokens → nano-USD per token (exact for prices with up to 3 decimals). */
export function nanosPerToken(usdPerMTok: number): number {
  return Math.round(usdPerMTok * 1000);
}

/**
 * Splits usage into priced classes. Cached and cache-write tokens are parts of `input_tokens`,
 * reasoning tokens part of `output_tokens`; a part larger than its whole (a provider bug) is capped
 * so no class goes negative.
 */
export function tokenClasses(usage: Usage): TokenClasses {
  const cachedInput = Math.min(usage.cached_input_tokens ?? 0, usage.input_tokens);
  const cacheWrite = Math.min(usage.cache_write_tokens ?? 0, usage.input_tokens - cachedInput);
  const reasoning = Math.min(usage.reasoning_tokens ?? 0, usage.output_tokens);
  return {
    uncachedInput: usage.input_tokens - cachedInput - cacheWrite,
    cachedInput,
    cacheWrite,
    visibleOutput: usage.output_tokens - reasoning,
    reasoning,
  };
}

/** Cost of one answer in integer nano-USD: each token class × its price in the model's table. */
export function tokenCostNanos(prices: TokenPrices, usage: Usage): number {
  const c = tokenClasses(usage);
  const per = (price: number | undefined, fallback: number) => nanosPerToken(price ?? fallback);
  return (
    c.uncachedInput * per(prices.inputPerMTok, 0) +
    c.cachedInput * per(prices.cachedInputPerMTok, prices.inputPerMTok) +
    c.cacheWrite * per(prices.cacheWritePerMTok, prices.inputPerMTok) +
    c.visibleOutput * per(prices.outputPerMTok, 0) +
    c.reasoning * per(prices.reasoningPerMTok, prices.outputPerMTok)
  );
}
