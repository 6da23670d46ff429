import { z } from 'zod';

/**
 * How one upstream attempt ended. The worker classifies every attempt into exactly one class;
 * the retry authority, the proxy pool and the ledger all speak these names.
 */
export const OUTCOMES = [
  'ok',
  'rate_limited',
  'blocked',
  'proxy_fault',
  'upstream_fault',
  'client_fault',
  'canceled',
] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;
