import { CodedError, SwitchyardError, toProblem, type ErrorCode } from '@switchyard/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openAiError } from './openai/openai-errors.ts';

/** The store did not take the request (down, or out of memory): a warning, not a bug's stack. */
export const isStoreOutage = (code: string): boolean =>
  code === 'redis_unavailable' || code === 'storage_full';

/** Fastify's own errors, by code, mapped onto the catalog. */
const FASTIFY_CODES: Record<string, SwitchyardError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_header',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'route_not_found',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_header',
  // @fastify/multipart (POST /v1/files)
  FST_REQ_FILE_TOO_LARGE: 'file_too_large',
  FST_FILES_LIMIT: 'validation_failed',
  FST_PARTS_LIMIT: 'validation_failed',
  FST_FIELDS_LIMIT: 'validation_failed',
  FST_PROTO_VIOLATION: 'validation_failed',
  FST_MP_PREMATURE_CLOSE: 'validation_failed',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
};

/** Other packages' codes that mean the request itself was wrong, mapped onto the catalog. */
const PACKAGE_CODES: Record<string, ErrorCode> = {
  PROXY_POOL_INVALID_PROXY: 'validation_failed',
  PROXY_POOL_UNSUPPORTED_PROTOCOL: 'validation_failed',
  /** An inverted or over-long usage range, or a day that does not exist (2024-02-30). */
  LEDGER_INVALID_QUERY: 'validation_failed',
};

/**
 * The catalog error for `err`. `bodyLimit`, the route's body limit in bytes, goes into a 413's
 * detail, so a client sees which limit its body passed.
 */
export function toSwitchyardError(err: unknown, bodyLimit?: number): SwitchyardError {
  if (err instanceof SwitchyardError) return err;
  const status = (err as Partial<FastifyError> | null)?.statusCode;
  if (status === 413 && bodyLimit !== undefined) {
    return new SwitchyardError(
      'payload_too_large',
      `the request body is over this route's limit of ${bodyLimit} bytes`,
    );
  }
  const fromPackage = err instanceof CodedError ? PACKAGE_CODES[err.code] : undefined;
  if (fromPackage) return new SwitchyardError(fromPackage, (err as CodedError).message);
  const fe = err as Partial<FastifyError>;
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new SwitchyardError(mapped);
  if (err instanceof SyntaxError || (fe.statusCode === 400 && fe.code?.startsWith('FST_ERR_CTP'))) {
    return new SwitchyardError('invalid_json');
  }
  if (fe.statusCode === 413) return new SwitchyardError('payload_too_large');
  if (fe.statusCode === 415) return new SwitchyardError('unsupported_media_type');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new SwitchyardError('validation_failed', 'the request could not be read');
  }
  return new SwitchyardError('internal_error', 'internal error', { cause: err });
}

/**
 * Errors Fastify raises before routing (a malformed URL, an unparseable Content-Type): passed as
 * the server's `frameworkErrors` option so they leave as problem+json too.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const sy = toSwitchyardError(err);
  void reply
    .code(sy.status)
    .type('application/problem+json')
    .send(toProblem(sy, req.url.split('?')[0]));
}

/**
 * The error handler of the routes OpenAI SDKs call besides Switchyard clients (`/v1/files`,
 * `/v1/batches`): the same problem+json, with OpenAI's `error` object as an extension member, so
 * an OpenAI SDK raises its usual exception with the message and Switchyard clients read `code`.
 */
export function installOpenAiCompatibleErrors(scope: FastifyInstance): void {
  scope.setErrorHandler((err, req, reply) => {
    const sy = toSwitchyardError(err, req.routeOptions.bodyLimit);
    if (sy.status >= 500 && !isStoreOutage(sy.code)) req.log.error({ err }, 'request failed');
    if (sy.retryAfterSeconds !== undefined) void reply.header('retry-after', String(sy.retryAfterSeconds));
    const { error } = openAiError(sy.code, sy.message, sy.errors?.[0]?.path ?? null).body;
    return reply
      .code(sy.status)
      .type('application/problem+json')
      .send({ ...toProblem(sy, req.url.split('?')[0]), error });
  });
}

/** Every error leaves as RFC 9457 problem+json with a stable code; nothing internal is echoed. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const sy = toSwitchyardError(err, req.routeOptions.bodyLimit);
    if (sy.status >= 500 && !isStoreOutage(sy.code)) {
      req.log.error({ err }, 'request failed');
    } else if (isStoreOutage(sy.code)) {
      req.log.warn(
        { code: sy.code },
        sy.code === 'storage_full' ? 'redis out of memory' : 'redis unavailable',
      );
    }
    if (sy.retryAfterSeconds !== undefined) void reply.header('retry-after', String(sy.retryAfterSeconds));
    return reply
      .code(sy.status)
      .type('application/problem+json')
      .send(toProblem(sy, req.url.split('?')[0]));
  });
  app.setNotFoundHandler((req, reply) => {
    const sy = new SwitchyardError('route_not_found', `no route for ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(404).type('application/problem+json').send(toProblem(sy));
  });
}
