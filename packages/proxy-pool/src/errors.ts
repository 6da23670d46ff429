/** Stable codes for everything the pool throws; branch on `code`, never on the message. */
export const PROXY_POOL_ERRORS = {
  PROXY_POOL_INVALID_PROXY: 'The proxy spec is invalid',
  PROXY_POOL_UNSUPPORTED_PROTOCOL: 'The proxy URL scheme is not supported',
  PROXY_POOL_INVALID_REQUEST: 'The lease request is invalid',
  PROXY_POOL_INVALID_OPTIONS: 'The pool options are invalid',
  PROXY_POOL_SCRIPT_ERROR: 'A pool script returned something unexpected',
} as const;

export type ProxyPoolErrorCode = keyof typeof PROXY_POOL_ERRORS;

export class ProxyPoolError extends Error {
  readonly code: ProxyPoolErrorCode;

  constructor(code: ProxyPoolErrorCode, detail: string) {
    super(`${PROXY_POOL_ERRORS[code]}: ${detail}`);
    this.name = 'ProxyPoolError';
    this.code = code;
  }
}
