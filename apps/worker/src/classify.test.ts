import { SwitchyardError } from '@switchyard/contracts';
import { ContentDecodingError, UpstreamBadResponseError, UpstreamHttpError } from '@switchyard/providers';
import { ResponseTooLargeError, TargetForbiddenError, TargetLookupError } from '@switchyard/scrape';
import { describe, expect, it } from 'vitest';
import { classify, poolOutcome, type ClassifyContext } from './classify.ts';
import { InvalidOutputError } from './executors/types.ts';

const direct: ClassifyContext = { canceled: false, viaProxy: false };
const proxied: ClassifyContext = { canceled: false, viaProxy: true };
const sysErr = (code: string) => Object.assign(new Error(code), { code });
const completionResult = {
  type: 'completion',
  model: 'm',
  upstream_model: 'm',
  message: { role: 'assistant', content: 'hi' },
  finish_reason: 'stop',
  usage: { input_tokens: 1, output_tokens: 1 },
} as const;
/** undici's parser error for bytes that are not HTTP: a name, and no code. */
const parserErr = () =>
  Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), {
    name: 'HTTPParserError',
  });

describe('classify', () => {
  it.each([
    [
      '429 → rate_limited with Retry-After',
      new UpstreamHttpError(429, { retryAfterMs: 1000 }),
      direct,
      'rate_limited',
      'upstream_rate_limited',
    ],
    ['403 → blocked', new UpstreamHttpError(403), direct, 'blocked', 'upstream_blocked'],
    ['500 → upstream_fault', new UpstreamHttpError(500), direct, 'upstream_fault', 'upstream_error'],
    [
      'Anthropic 529 overloaded_error → upstream_fault',
      new UpstreamHttpError(529, { upstreamCode: 'overloaded_error' }),
      direct,
      'upstream_fault',
      'upstream_error',
    ],
    ['400 → client_fault', new UpstreamHttpError(400), direct, 'client_fault', 'upstream_rejected'],
    [
      '407 via a proxy → proxy_fault',
      new UpstreamHttpError(407),
      proxied,
      'proxy_fault',
      'upstream_unreachable',
    ],
    [
      'an error inside a 200 → upstream_fault',
      new UpstreamBadResponseError('error_in_body', 'x'),
      direct,
      'upstream_fault',
      'upstream_bad_response',
    ],
    [
      'a cut stream → upstream_fault',
      new UpstreamBadResponseError('stream_cut', 'x'),
      direct,
      'upstream_fault',
      'upstream_bad_response',
    ],
    [
      'an answer that failed the JSON guardrail → invalid_output, through a proxy too',
      new InvalidOutputError('the answer is not JSON', { result: completionResult, costNanos: 5, bytes: 9 }),
      proxied,
      'invalid_output',
      'invalid_output',
    ],
    [
      'a too-large body → client_fault',
      new ResponseTooLargeError(10),
      direct,
      'client_fault',
      'response_too_large',
    ],
    // Extraction failures are the page's, whatever the proxy: never retried, their code kept.
    [
      'extraction unsupported_content_type → client_fault',
      new SwitchyardError('unsupported_content_type', 'x'),
      proxied,
      'client_fault',
      'unsupported_content_type',
    ],
    [
      'extraction extraction_timeout → client_fault',
      new SwitchyardError('extraction_timeout', 'x'),
      proxied,
      'client_fault',
      'extraction_timeout',
    ],
    [
      'extraction extraction_too_large → client_fault',
      new SwitchyardError('extraction_too_large', 'x'),
      proxied,
      'client_fault',
      'extraction_too_large',
    ],
    [
      'headers timeout → upstream_fault',
      sysErr('UND_ERR_HEADERS_TIMEOUT'),
      direct,
      'upstream_fault',
      'upstream_timeout',
    ],
    [
      'AbortSignal.timeout → upstream_fault',
      new DOMException('t', 'TimeoutError'),
      direct,
      'upstream_fault',
      'upstream_timeout',
    ],
    [
      'refused direct → upstream_fault',
      sysErr('ECONNREFUSED'),
      direct,
      'upstream_fault',
      'upstream_unreachable',
    ],
    [
      'refused via proxy → proxy_fault',
      sysErr('ECONNREFUSED'),
      proxied,
      'proxy_fault',
      'upstream_unreachable',
    ],
    [
      "undici's 407 from a proxy → proxy_fault",
      sysErr('UND_ERR_INVALID_ARG'),
      proxied,
      'proxy_fault',
      'upstream_unreachable',
    ],
    [
      'a refused CONNECT tunnel → proxy_fault',
      sysErr('UND_ERR_ABORTED'),
      proxied,
      'proxy_fault',
      'upstream_unreachable',
    ],
    [
      'a forbidden scrape target → client_fault (never retried), even via a proxy',
      new TargetForbiddenError('no', 'loopback'),
      proxied,
      'client_fault',
      'target_forbidden',
    ],
    [
      "the worker's own lookup of a scrape target failing is the target's fault, not the proxy's",
      new TargetLookupError('nope.test', 'ENOTFOUND'),
      proxied,
      'upstream_fault',
      'upstream_unreachable',
    ],
    [
      'anything after cancel → canceled',
      new UpstreamHttpError(500),
      { canceled: true, viaProxy: false },
      'canceled',
      'canceled',
    ],
    // TLS: the target's direct; through a proxy it may be the proxy tampering.
    ...(
      [
        'DEPTH_ZERO_SELF_SIGNED_CERT',
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
        'ERR_TLS_CERT_ALTNAME_INVALID',
        'CERT_HAS_EXPIRED',
        'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
      ] as const
    ).flatMap((code) => [
      [
        `TLS ${code} direct → upstream_fault`,
        sysErr(code),
        direct,
        'upstream_fault',
        'upstream_tls_error',
      ] as const,
      [
        `TLS ${code} via proxy → proxy_fault`,
        sysErr(code),
        proxied,
        'proxy_fault',
        'upstream_tls_error',
      ] as const,
    ]),
    [
      'bytes that are not HTTP, direct → upstream_fault',
      parserErr(),
      direct,
      'upstream_fault',
      'upstream_protocol_error',
    ],
    [
      'bytes that are not HTTP from a proxy → proxy_fault',
      parserErr(),
      proxied,
      'proxy_fault',
      'upstream_protocol_error',
    ],
    [
      'an llhttp code → upstream_protocol_error',
      sysErr('HPE_INVALID_HEADER_TOKEN'),
      direct,
      'upstream_fault',
      'upstream_protocol_error',
    ],
    [
      'a body cut short of its Content-Length → upstream_unreachable',
      sysErr('UND_ERR_RES_CONTENT_LENGTH_MISMATCH'),
      direct,
      'upstream_fault',
      'upstream_unreachable',
    ],
    [
      'a body that does not decode → client_fault (never retried), even via a proxy',
      new ContentDecodingError('x'),
      proxied,
      'client_fault',
      'content_decoding_failed',
    ],
    ['an unknown error is not retried', new TypeError('bug'), direct, 'client_fault', 'internal_job_error'],
  ] as const)('%s', (_name, err, ctx, outcome, code) => {
    expect(classify(err, ctx)).toMatchObject({ outcome, code });
  });

  it('names the TLS reason in our words, with the code', () => {
    expect(classify(sysErr('CERT_HAS_EXPIRED'), direct).message).toBe(
      'TLS failed: the certificate has expired (CERT_HAS_EXPIRED)',
    );
    expect(classify(sysErr('ERR_TLS_CERT_ALTNAME_INVALID'), proxied).message).toContain(
      'the certificate does not name the host',
    );
  });

  it('keeps the Retry-After of a 429', () => {
    expect(classify(new UpstreamHttpError(429, { retryAfterMs: 1500 }), direct).retryAfterMs).toBe(1500);
  });
});

describe('what the proxy pool learns', () => {
  it('an invalid answer came through the egress fine: the pool hears ok; other outcomes pass as they are', () => {
    expect(poolOutcome('invalid_output')).toBe('ok');
    expect(poolOutcome('rate_limited')).toBe('rate_limited');
    expect(poolOutcome('proxy_fault')).toBe('proxy_fault');
  });
});
