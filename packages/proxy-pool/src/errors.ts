import { codedErrorClass } from '@switchyard/contracts';

/** Stable codes for everything the pool throws; branch on `code`, never on the message. */
export const PROXY_POOL_ERRORS = {
  PROXY_POOL_INVALID_PROXY: 'The proxy spec is invalid',
  PROXY_POOL_UNSUPPORTED_PROTOCOL: 'The proxy URL scheme is not supported',
  PROXY_POOL_INVALID_REQUEST: 'The lease request is invalid',
  PROXY_POOL_INVALID_OPTIONS: 'The pool options are invalid',
  PROXY_POOL_SCRIPT_ERROR: 'A pool script returned something unexpected',
} as const;

export type ProxyPoolErrorCode = keyof typeof PROXY_POOL_ERRORS;

/** What the pool throws: invalid proxies, requests or options, or a script's unexpected answer. */
export class ProxyPoolError extends codedErrorClass(PROXY_POOL_ERRORS) {}
