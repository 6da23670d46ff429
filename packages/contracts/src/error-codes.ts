/**
 * The one catalog of Switchyard error codes. Every code has an HTTP status and a title; every code
 * is documented in docs/errors.md (a test keeps the two in step). Branch on `code`, never on text.
 *
 * `scope: 'request'` codes answer an HTTP request; `scope: 'job'` codes end a job and appear in
 * its `error.code` (their status is what a waiting client sees, e.g. through `Prefer: wait`).
 */
export const ERROR_CATALOG = {
  // --- request errors -------------------------------------------------------------------------
  validation_failed: { status: 400, title: 'The request body or parameters are invalid', scope: 'request' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON', scope: 'request' },
  invalid_header: { status: 400, title: 'A request header is invalid', scope: 'request' },
  unknown_model: { status: 400, title: 'The model is not configured on this broker', scope: 'request' },
  webhook_secret_missing: {
    status: 400,
    title: 'The tenant has no webhook secret, so it cannot name a webhook',
    scope: 'request',
  },
  unauthorized: { status: 401, title: 'Missing or invalid API key', scope: 'request' },
  forbidden: { status: 403, title: 'The API key lacks the scope this route needs', scope: 'request' },
  not_found: { status: 404, title: 'No such resource', scope: 'request' },
  route_not_found: { status: 404, title: 'No such route', scope: 'request' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route', scope: 'request' },
  already_exists: { status: 409, title: 'A resource with that id already exists', scope: 'request' },
  job_finished: { status: 409, title: 'The job has already finished', scope: 'request' },
  batch_finished: { status: 409, title: 'The batch has already finished', scope: 'request' },
  payload_too_large: { status: 413, title: 'The request body is too large', scope: 'request' },
  file_too_large: { status: 413, title: 'The uploaded file exceeds the size limit', scope: 'request' },
  file_too_many_lines: {
    status: 413,
    title: 'The uploaded file has more lines than allowed',
    scope: 'request',
  },
  unsupported_media_type: { status: 415, title: 'Unsupported Content-Type', scope: 'request' },
  idempotency_key_reused: {
    status: 422,
    title: 'The Idempotency-Key was already used with a different request',
    scope: 'request',
  },
  rate_limited: { status: 429, title: 'Too many requests', scope: 'request' },
  budget_exceeded: { status: 429, title: "The tenant's daily USD budget is spent", scope: 'request' },
  too_many_jobs_in_flight: {
    status: 429,
    title: 'The tenant has as many unfinished jobs as it may',
    scope: 'request',
  },
  too_many_jobs_queued: {
    status: 429,
    title: 'The tenant has as many jobs waiting for a worker as it may',
    scope: 'request',
  },
  internal_error: { status: 500, title: 'Internal error', scope: 'request' },
  redis_unavailable: { status: 503, title: 'The job store is unavailable; retry shortly', scope: 'request' },
  storage_full: { status: 503, title: 'The job store is out of memory; retry shortly', scope: 'request' },
  // --- job errors -----------------------------------------------------------------------------
  upstream_error: { status: 502, title: 'The upstream answered with a server error', scope: 'job' },
  upstream_rate_limited: { status: 429, title: 'The upstream kept rate limiting the request', scope: 'job' },
  upstream_rejected: { status: 502, title: 'The upstream rejected the request as invalid', scope: 'job' },
  upstream_blocked: {
    status: 502,
    title: 'The target refused the request (403 or a challenge page)',
    scope: 'job',
  },
  too_many_redirects: { status: 502, title: 'The target redirected too many times', scope: 'job' },
  // Also answers POST /v1/jobs (400) when the URL alone shows it: scheme, port, IP literal, localhost.
  target_forbidden: {
    status: 400,
    title: 'The scrape target is not allowed (scheme, port, or a private, loopback or metadata address)',
    scope: 'job',
  },
  robots_disallowed: {
    status: 403,
    title: "The site's robots.txt disallows this URL for our product token",
    scope: 'job',
  },
  upstream_timeout: { status: 504, title: 'The upstream did not answer in time', scope: 'job' },
  upstream_unreachable: { status: 502, title: 'The upstream could not be reached', scope: 'job' },
  upstream_protocol_error: { status: 502, title: 'The upstream did not answer in HTTP', scope: 'job' },
  upstream_tls_error: {
    status: 502,
    title: "The upstream's TLS certificate or handshake was refused",
    scope: 'job',
  },
  content_decoding_failed: {
    status: 502,
    title: "The body's Content-Encoding could not be decoded",
    scope: 'job',
  },
  upstream_bad_response: { status: 502, title: 'The upstream answer could not be understood', scope: 'job' },
  invalid_output: {
    status: 502,
    title: "The answer did not match the request's response_format, on every model tried",
    scope: 'job',
  },
  response_too_large: { status: 502, title: 'The response exceeded the size limit', scope: 'job' },
  unsupported_content_type: {
    status: 422,
    title: 'The content type has no markdown, text, html or links to extract',
    scope: 'job',
  },
  extraction_timeout: { status: 422, title: 'Extracting the content took longer than allowed', scope: 'job' },
  extraction_too_large: { status: 422, title: 'The body is too large to extract content from', scope: 'job' },
  provider_not_configured: {
    status: 503,
    title: "The model's provider has no API key configured",
    scope: 'job',
  },
  retry_budget_exhausted: {
    status: 503,
    title: "The upstream's retry budget is spent; the job was not retried",
    scope: 'job',
  },
  deadline_exceeded: { status: 504, title: "The job's deadline passed before it finished", scope: 'job' },
  canceled: { status: 409, title: 'The job was canceled', scope: 'job' },
  internal_job_error: { status: 500, title: 'The worker failed while running the job', scope: 'job' },
} as const satisfies Record<string, { status: number; title: string; scope: 'request' | 'job' }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}
