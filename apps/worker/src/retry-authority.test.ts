import { describe, expect, it } from 'vitest';
import { decideRetry, type RetryDecision, type RetryInput } from './retry-authority.ts';

const base: RetryInput = {
  outcome: 'upstream_fault',
  attempt: 1,
  maxAttempts: 3,
  retryAfterMs: undefined,
  now: 1_000_000,
  deadline: 2_000_000,
  backoffMs: 500,
  random: 0.5,
  egressRotates: false,
  hasFallback: false,
};

const cases: [string, Partial<RetryInput>, RetryDecision][] = [
  ['a 5xx is retried after a jittered backoff', {}, { action: 'retry', delayMs: 375, newEgress: false }],
  ['the backoff doubles per attempt', { attempt: 2 }, { action: 'retry', delayMs: 750, newEgress: false }],
  [
    'jitter stays within [half, full] of the step',
    { random: 0 },
    { action: 'retry', delayMs: 250, newEgress: false },
  ],
  [
    'Retry-After is honoured exactly',
    { outcome: 'rate_limited', retryAfterMs: 2000 },
    { action: 'retry', delayMs: 2000, newEgress: true },
  ],
  [
    'a rate limit without Retry-After backs off on another identity',
    { outcome: 'rate_limited' },
    { action: 'retry', delayMs: 375, newEgress: true },
  ],
  [
    'a block retries on another identity',
    { outcome: 'blocked' },
    { action: 'retry', delayMs: 375, newEgress: true },
  ],
  [
    'a proxy fault retries on another identity',
    { outcome: 'proxy_fault' },
    { action: 'retry', delayMs: 375, newEgress: true },
  ],
  [
    'through the pool a rate limit retries at once on another proxy',
    { outcome: 'rate_limited', retryAfterMs: 2000, egressRotates: true },
    { action: 'retry', delayMs: 0, newEgress: true },
  ],
  [
    'through the pool a block retries at once on another proxy',
    { outcome: 'blocked', egressRotates: true },
    { action: 'retry', delayMs: 0, newEgress: true },
  ],
  [
    'through the pool a 5xx still backs off (the target is the problem)',
    { egressRotates: true },
    { action: 'retry', delayMs: 375, newEgress: false },
  ],
  [
    'when a model is out of attempts the next fallback model is asked',
    { attempt: 3, hasFallback: true },
    { action: 'fallback' },
  ],
  [
    'a Retry-After past the deadline moves to the fallback at once',
    { outcome: 'rate_limited', retryAfterMs: 5_000_000, hasFallback: true },
    { action: 'fallback' },
  ],
  [
    'a client fault does not fall back',
    { outcome: 'client_fault', hasFallback: true },
    { action: 'fail', reason: 'not_retryable' },
  ],
  [
    'nothing happens after the deadline, fallback or not',
    { now: 2_000_000, hasFallback: true },
    { action: 'fail', reason: 'deadline' },
  ],
  [
    'a client fault is never retried',
    { outcome: 'client_fault' },
    { action: 'fail', reason: 'not_retryable' },
  ],
  ['a canceled job is never retried', { outcome: 'canceled' }, { action: 'fail', reason: 'not_retryable' }],
  ['the last allowed attempt is final', { attempt: 3 }, { action: 'fail', reason: 'attempts_exhausted' }],
  [
    'no retry is scheduled past the deadline',
    { deadline: 1_000_300 },
    { action: 'fail', reason: 'deadline' },
  ],
  [
    'a Retry-After past the deadline fails now',
    { outcome: 'rate_limited', retryAfterMs: 5_000_000 },
    { action: 'fail', reason: 'deadline' },
  ],
  [
    'backoff is capped at a minute',
    { attempt: 12, maxAttempts: 20, random: 0.999999, deadline: 9e12 },
    { action: 'retry', delayMs: 60_000, newEgress: false },
  ],
];

describe('retry authority', () => {
  it.each(cases)('%s', (_name, patch, expected) => {
    expect(decideRetry({ ...base, ...patch })).toEqual(expected);
  });
});
