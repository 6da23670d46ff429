import { describe, expect, it } from 'vitest';
import { tokenCostNanos } from './pricing.ts';
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
