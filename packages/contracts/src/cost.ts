import { z } from 'zod';

/**
 * Money is counted in integer nano-dollars (1e-9 USD) so sums are exact; `usd` is for display.
 */
export const CostSchema = z
  .object({
    usd: z.number().nonnegative(),
    nano_usd: z.number().int().nonnegative(),
  })
  .meta({ id: 'Cost' });
export type Cost = z.infer<typeof CostSchema>;

export function costFromNanos(nanos: number): Cost {
  return { usd: nanos / 1e9, nano_usd: nanos };
}
