import { describe, expect, it } from 'vitest';
import { tokenClasses, tokenCostNanos } from './pricing.ts';
import { parseRetryAfter } from './upstream-errors.ts';

describe('pricing', () => {
  it('costs are exact integers in nano-USD', () => {
    // 0.15 USD / MTok in, 0.6 USD / MTok out
    expect(
      tokenCostNanos({ inputPerMTok: 0.15, outputPerMTok: 0.6 }, { input_tokens: 1000, output_tokens: 500 }),
    ).toBe(150_000 + 300_000);
    let sum = 0;
    for (let i = 0; i < 1000; i++)
      sum += tokenCostNanos({ inputPerMTok: 0.1, outputPerMTok: 0.3 }, { input_tokens: 7, output_tokens: 3 });
    expect(sum).toBe(1000 * (700 + 900));
  });
});

describe('Retry-After', () => {
  it('reads delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('pricing by token class', () => {
  const prices = {
    inputPerMTok: 3,
    outputPerMTok: 15,
    cachedInputPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    reasoningPerMTok: 20,
  };

  it('prices cached reads, cache writes and reasoning apart from plain input and output', () => {
    const usage = {
      input_tokens: 1000,
      cached_input_tokens: 600,
      cache_write_tokens: 300,
      output_tokens: 500,
      reasoning_tokens: 200,
    };
    // 100 plain in × 3000 + 600 cached × 300 + 300 writes × 3750 + 300 out × 15000 + 200 × 20000
    expect(tokenCostNanos(prices, usage)).toBe(300_000 + 180_000 + 1_125_000 + 4_500_000 + 4_000_000);
  });

  it('an unpriced class costs what its whole costs: cached as input, reasoning as output', () => {
    const usage = { input_tokens: 10, cached_input_tokens: 4, output_tokens: 6, reasoning_tokens: 5 };
    expect(tokenCostNanos({ inputPerMTok: 1, outputPerMTok: 2 }, usage)).toBe(10 * 1000 + 6 * 2000);
  });

  it('a part larger than its whole is capped, never a negative class', () => {
    const c = tokenClasses({
      input_tokens: 5,
      cached_input_tokens: 9,
      cache_write_tokens: 3,
      output_tokens: 1,
    });
    expect(c).toEqual({ uncachedInput: 0, cachedInput: 5, cacheWrite: 0, visibleOutput: 1, reasoning: 0 });
  });
});
