import type { Usage } from '@switchyard/contracts';

export interface TokenPrices {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
}

/** USD per million tokens → nano-USD per token (exact for prices with up to 3 decimals). */
export function nanosPerToken(usdPerMTok: number): number {
  return Math.round(usdPerMTok * 1000);
}

/** Cost of one answer in integer nano-USD: tokens × model price. */
export function tokenCostNanos(prices: TokenPrices, usage: Usage): number {
  return (
    usage.input_tokens * nanosPerToken(prices.inputPerMTok) +
    usage.output_tokens * nanosPerToken(prices.outputPerMTok)
  );
}
