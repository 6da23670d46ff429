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

/**
 * What a ledger entry can record: an upstream attempt's outcome, plus two that are Switchyard's
 * own verdicts rather than the transport's. `invalid_output`: the upstream answered (and billed)
 * but the answer failed the request's `response_format` guardrail. `cache_hit`: the job was
 * answered from the response cache, with no upstream call, at $0. The proxy pool never sees
 * either: for it an invalid answer is `ok`, and a hit leases nothing.
 */
export const ATTEMPT_OUTCOMES = [...OUTCOMES, 'invalid_output', 'cache_hit'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];
