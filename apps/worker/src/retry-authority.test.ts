import type { ErrorCode } from '@switchyard/contracts';
import { describe, expect, it } from 'vitest';
import {
  decideBeforeRun,
  decideNoEgress,
  decideRetry,
  decideStart,
  type BeforeRunInput,
  type FailDecision,
  type FailReason,
  type NoEgressInput,
  type RetryDecision,
  type RetryInput,
  type StartInput,
} from './retry-authority.ts';

const fail = (reason: FailReason, code: ErrorCode, message: string): FailDecision => ({
  action: 'fail',
  reason,
  code,
  message,
});
const retry = (delayMs: number): RetryDecision => ({ action: 'retry', delayMs });
const FALLBACK: RetryDecision = { action: 'fallback', delayMs: 0 };
const ASK_BUDGET: RetryDecision = { action: 'ask_budget' };

const FAULT = 'the upstream answered 500';
const base: RetryInput = {
  outcome: 'upstream_fault',
  code: 'upstream_error',
  message: FAULT,
  attempt: 1,
  maxAttempts: 3,
  retryAfterMs: undefined,
  now: 1_000_000,
  deadline: 2_000_000,
  backoffMs: 500,
  random: 0.5,
  egressRotates: false,
  hasFallback: false,
  streamDeltasSent: 0,
  tlsFailures: 0,
  budgetAllows: true,
};
const RATE_LIMITED = { outcome: 'rate_limited', code: 'upstream_rate_limited', message: 'a 429' } as const;
const CLIENT_FAULT = { outcome: 'client_fault', code: 'upstream_rejected', message: 'a 400' } as const;
const CANCELED = { outcome: 'canceled', code: 'canceled', message: 'the job was canceled' } as const;
const NO_FIT = `${FAULT} (no retry fits before the deadline)`;
const INVALID = {
  outcome: 'invalid_output',
  code: 'invalid_output',
  message: 'the answer is not JSON',
} as const;
const TLS = 'TLS failed: the certificate has expired (CERT_HAS_EXPIRED)';
const TLS_DIRECT = { outcome: 'upstream_fault', code: 'upstream_tls_error', message: TLS } as const;
const TLS_PROXY = {
  outcome: 'proxy_fault',
  code: 'upstream_tls_error',
  message: TLS,
  egressRotates: true,
} as const;
const PROTOCOL = { outcome: 'upstream_fault', code: 'upstream_protocol_error', message: 'not HTTP' } as const;
const DECODING = { outcome: 'client_fault', code: 'content_decoding_failed', message: 'not gzip' } as const;

const cases: [string, Partial<RetryInput>, RetryDecision][] = [
  ['a 5xx is retried after a jittered backoff', {}, retry(375)],
  ['the backoff doubles per attempt', { attempt: 2 }, retry(750)],
  ['jitter stays within [half, full] of the step', { random: 0 }, retry(250)],
  ['Retry-After is honoured exactly', { ...RATE_LIMITED, retryAfterMs: 2000 }, retry(2000)],
  ['a rate limit without Retry-After backs off on another identity', RATE_LIMITED, retry(375)],
  ['a block retries on another identity', { outcome: 'blocked' }, retry(375)],
  ['a proxy fault retries on another identity', { outcome: 'proxy_fault' }, retry(375)],
  [
    'through the pool a rate limit retries at once on another proxy',
    { ...RATE_LIMITED, retryAfterMs: 2000, egressRotates: true },
    retry(0),
  ],
  [
    'through the pool a block retries at once on another proxy',
    { outcome: 'blocked', egressRotates: true },
    retry(0),
  ],
  ['through the pool a 5xx still backs off (the target is the problem)', { egressRotates: true }, retry(375)],
  [
    'when a model is out of attempts the next fallback model is asked at once',
    { attempt: 3, hasFallback: true },
    FALLBACK,
  ],
  [
    'a Retry-After past the deadline moves to the fallback at once',
    { ...RATE_LIMITED, retryAfterMs: 5_000_000, hasFallback: true },
    FALLBACK,
  ],
  [
    'a client fault does not fall back',
    { ...CLIENT_FAULT, hasFallback: true },
    fail('not_retryable', 'upstream_rejected', 'a 400'),
  ],
  [
    'nothing happens after the deadline, fallback or not',
    { now: 2_000_000, hasFallback: true },
    fail('deadline', 'upstream_error', NO_FIT),
  ],
  ['a client fault is never retried', CLIENT_FAULT, fail('not_retryable', 'upstream_rejected', 'a 400')],
  [
    'an extraction failure is never retried, through the pool or not',
    { outcome: 'client_fault', code: 'extraction_timeout', message: 'slow', egressRotates: true },
    fail('not_retryable', 'extraction_timeout', 'slow'),
  ],
  ['a canceled job is never retried', CANCELED, fail('not_retryable', 'canceled', 'the job was canceled')],
  ['the last allowed attempt is final', { attempt: 3 }, fail('attempts_exhausted', 'upstream_error', FAULT)],
  [
    'no retry is scheduled past the deadline',
    { deadline: 1_000_300 },
    fail('deadline', 'upstream_error', NO_FIT),
  ],
  [
    'a Retry-After past the deadline fails now',
    { ...RATE_LIMITED, retryAfterMs: 5_000_000 },
    fail('deadline', 'upstream_rate_limited', 'a 429 (no retry fits before the deadline)'),
  ],
  [
    'backoff is capped at a minute',
    { attempt: 12, maxAttempts: 20, random: 0.999999, deadline: 9e12 },
    retry(60_000),
  ],
  // A stream cut after the client received part of the answer.
  [
    'a stream cut after deltas were sent is final, with the cut in the message',
    { streamDeltasSent: 7 },
    fail('stream_cut', 'upstream_error', `${FAULT} (the stream was cut after 7 deltas)`),
  ],
  [
    'a cut stream does not fall back either',
    { streamDeltasSent: 1, attempt: 3, hasFallback: true },
    fail('stream_cut', 'upstream_error', `${FAULT} (the stream was cut after 1 deltas)`),
  ],
  [
    'a stream canceled after deltas reports the cut',
    { ...CANCELED, streamDeltasSent: 2 },
    fail('stream_cut', 'canceled', 'the job was canceled (the stream was cut after 2 deltas)'),
  ],
  [
    'a cut stream is final without asking the retry budget',
    { streamDeltasSent: 3, budgetAllows: undefined },
    fail('stream_cut', 'upstream_error', `${FAULT} (the stream was cut after 3 deltas)`),
  ],
  // Each failure class of the wire: TLS, protocol, decoding, size.
  ['a TLS failure direct is never retried', TLS_DIRECT, fail('not_retryable', 'upstream_tls_error', TLS)],
  [
    'a TLS failure direct moves to the fallback model (another host) at once',
    { ...TLS_DIRECT, hasFallback: true },
    FALLBACK,
  ],
  [
    'a TLS failure direct with the budget spent has no fallback either',
    { ...TLS_DIRECT, hasFallback: true, budgetAllows: false },
    fail('retry_budget', 'retry_budget_exhausted', `${TLS}; the retry budget of this upstream is spent`),
  ],
  [
    'a TLS failure direct never asks the retry budget',
    { ...TLS_DIRECT, budgetAllows: undefined },
    fail('not_retryable', 'upstream_tls_error', TLS),
  ],
  [
    'a first TLS failure through a proxy is retried at once through another',
    { ...TLS_PROXY, tlsFailures: 1 },
    retry(0),
  ],
  [
    'a first TLS failure through a proxy is retried even after other failures',
    { ...TLS_PROXY, tlsFailures: 1, attempt: 2 },
    retry(0),
  ],
  [
    'a second TLS failure through another proxy is final: it is the certificate',
    { ...TLS_PROXY, tlsFailures: 2, attempt: 2 },
    fail('not_retryable', 'upstream_tls_error', `${TLS}, through another proxy too`),
  ],
  [
    'a second TLS failure through a proxy moves to the fallback model',
    { ...TLS_PROXY, tlsFailures: 2, attempt: 2, hasFallback: true },
    FALLBACK,
  ],
  [
    'the one TLS retry through a proxy still needs an attempt left',
    { ...TLS_PROXY, tlsFailures: 1, attempt: 3 },
    fail('attempts_exhausted', 'upstream_tls_error', TLS),
  ],
  [
    'the one TLS retry through a proxy needs the budget',
    { ...TLS_PROXY, tlsFailures: 1, budgetAllows: undefined },
    ASK_BUDGET,
  ],
  ['bytes that are not HTTP are retried like a 5xx', PROTOCOL, retry(375)],
  [
    'bytes that are not HTTP are final on the last attempt',
    { ...PROTOCOL, attempt: 3 },
    fail('attempts_exhausted', 'upstream_protocol_error', 'not HTTP'),
  ],
  [
    'a proxy answering bytes that are not HTTP: retried at once through another',
    { ...PROTOCOL, outcome: 'proxy_fault', egressRotates: true },
    retry(0),
  ],
  [
    'a body that does not decode is never retried',
    DECODING,
    fail('not_retryable', 'content_decoding_failed', 'not gzip'),
  ],
  [
    'a body past the cap (a bomb) is never retried',
    { outcome: 'client_fault', code: 'response_too_large', message: 'too big', egressRotates: true },
    fail('not_retryable', 'response_too_large', 'too big'),
  ],
  // The retry budget: asked (and spent) only for a retry or a fallback.
  ['a retry asks the retry budget first', { budgetAllows: undefined }, ASK_BUDGET],
  [
    'a fallback asks the retry budget first',
    { attempt: 3, hasFallback: true, budgetAllows: undefined },
    ASK_BUDGET,
  ],
  [
    'a final failure never asks (nor spends) the retry budget',
    { attempt: 3, budgetAllows: undefined },
    fail('attempts_exhausted', 'upstream_error', FAULT),
  ],
  [
    'a client fault never asks the retry budget',
    { ...CLIENT_FAULT, budgetAllows: undefined },
    fail('not_retryable', 'upstream_rejected', 'a 400'),
  ],
  [
    'with the budget spent a retry becomes a final failure',
    { budgetAllows: false },
    fail('retry_budget', 'retry_budget_exhausted', `${FAULT}; the retry budget of this upstream is spent`),
  ],
  [
    'with the budget spent there is no fallback either',
    { attempt: 3, hasFallback: true, budgetAllows: false },
    fail('retry_budget', 'retry_budget_exhausted', `${FAULT}; the retry budget of this upstream is spent`),
  ],
  [
    'a rotation through the pool needs the budget too',
    { ...RATE_LIMITED, egressRotates: true, budgetAllows: false },
    fail('retry_budget', 'retry_budget_exhausted', 'a 429; the retry budget of this upstream is spent'),
  ],
  // The JSON guardrail: an answer that failed `response_format` (it was billed).
  ['an invalid answer moves to the next fallback model at once', { ...INVALID, hasFallback: true }, FALLBACK],
  [
    'an invalid answer is never retried on the same model, attempts left or not',
    { ...INVALID, attempt: 1, maxAttempts: 3 },
    fail('invalid_output', 'invalid_output', 'the answer is not JSON'),
  ],
  [
    'an invalid answer through the pool does not rotate and retry either',
    { ...INVALID, egressRotates: true },
    fail('invalid_output', 'invalid_output', 'the answer is not JSON'),
  ],
  [
    'the fallback after an invalid answer asks the retry budget first',
    { ...INVALID, hasFallback: true, budgetAllows: undefined },
    ASK_BUDGET,
  ],
  [
    'an invalid answer with nothing to fall back to never asks the retry budget',
    { ...INVALID, budgetAllows: undefined },
    fail('invalid_output', 'invalid_output', 'the answer is not JSON'),
  ],
  [
    'with the budget spent an invalid answer does not fall back',
    { ...INVALID, hasFallback: true, budgetAllows: false },
    fail(
      'retry_budget',
      'retry_budget_exhausted',
      'the answer is not JSON; the retry budget of this upstream is spent',
    ),
  ],
  [
    'an invalid answer at the deadline does not fall back',
    { ...INVALID, hasFallback: true, now: 2_000_000 },
    fail('deadline', 'invalid_output', 'the answer is not JSON (no retry fits before the deadline)'),
  ],
];

describe('retry authority: after a failed attempt', () => {
  it.each(cases)('%s', (_name, patch, expected) => {
    expect(decideRetry({ ...base, ...patch })).toEqual(expected);
  });
});

const beforeRun: [string, BeforeRunInput, ReturnType<typeof decideBeforeRun>][] = [
  ['a job before its deadline runs', { canceled: false, now: 1, deadline: 2 }, { action: 'run' }],
  [
    'a job canceled before it ran fails as canceled',
    { canceled: true, now: 1, deadline: 2 },
    fail('canceled', 'canceled', 'the job was canceled before it ran'),
  ],
  [
    'a cancel wins over a passed deadline',
    { canceled: true, now: 3, deadline: 2 },
    fail('canceled', 'canceled', 'the job was canceled before it ran'),
  ],
  [
    'a job reaching its deadline before it ran fails',
    { canceled: false, now: 2, deadline: 2 },
    fail('deadline', 'deadline_exceeded', 'the deadline passed before the job could run'),
  ],
];

describe('retry authority: before a run', () => {
  it.each(beforeRun)('%s', (_name, input, expected) => {
    expect(decideBeforeRun(input)).toEqual(expected);
  });
});

const noEgress: [string, NoEgressInput, ReturnType<typeof decideNoEgress>][] = [
  [
    'an exhausted pool delays the job until it expects capacity',
    { retryAfterMs: 500, reason: 'empty', now: 1_000, deadline: 2_000 },
    { action: 'delay', until: 1_500 },
  ],
  [
    'capacity expected at the deadline or later fails the job, naming the pool’s reason',
    { retryAfterMs: 1_000, reason: 'cooling', now: 1_000, deadline: 2_000 },
    fail('deadline', 'deadline_exceeded', 'no egress capacity before the deadline (cooling)'),
  ],
];

describe('retry authority: no egress capacity', () => {
  it.each(noEgress)('%s', (_name, input, expected) => {
    expect(decideNoEgress(input)).toEqual(expected);
  });
});

const INTERRUPTED = fail(
  'interrupted',
  'internal_job_error',
  'the job was interrupted on its last allowed attempt',
);
const start: [string, StartInput, ReturnType<typeof decideStart>][] = [
  ['a first attempt runs', { attempt: 1, maxAttempts: 3, modelCount: 1 }, { action: 'run' }],
  ['the last allowed attempt runs', { attempt: 3, maxAttempts: 3, modelCount: 1 }, { action: 'run' }],
  [
    'a re-run after the last allowed attempt was interrupted fails',
    { attempt: 4, maxAttempts: 3, modelCount: 1 },
    INTERRUPTED,
  ],
  [
    'fallback models add their attempts to the limit',
    { attempt: 6, maxAttempts: 3, modelCount: 2 },
    { action: 'run' },
  ],
  ['past every model’s attempts a re-run fails', { attempt: 7, maxAttempts: 3, modelCount: 2 }, INTERRUPTED],
];

describe('retry authority: an attempt just numbered', () => {
  it.each(start)('%s', (_name, input, expected) => {
    expect(decideStart(input)).toEqual(expected);
  });
});
