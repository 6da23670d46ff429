import { ProxyPoolError } from './errors.ts';
import { redactProxyUrl } from './redact.ts';
import type { LeaseRequest, ProxySpec } from './types.ts';

/** Most leases one proxy may carry at once (its counts are packed into a sorted-set score below
 * 2^14 each: lua/includes/availability.lua). */
export const MAX_CONCURRENCY = 10_000;

const ID = /^[A-Za-z0-9][\w.:-]{0,127}$/;
const TAG = /^[\w.:-]{1,64}$/;
const COUNTRY = /^[A-Z]{2}$/;
const HOST = /^[^\s|]{1,255}$/;

export interface NormalizedProxy {
  id: string;
  url: string;
  tags: string[];
  country: string;
  maxConcurrency: number;
  pricePerGbUsd: number;
}

/** Checks a proxy URL is one undici can use as a forward proxy; throws with the URL redacted. */
export function assertSupportedProxyUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ProxyPoolError('PROXY_POOL_INVALID_PROXY', 'url is not a valid URL');
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  if (u.protocol.startsWith('socks')) {
    // undici 8 has a Socks5ProxyAgent, but it is marked experimental and warns at runtime.
    throw new ProxyPoolError(
      'PROXY_POOL_UNSUPPORTED_PROTOCOL',
      `${redactProxyUrl(url)}: SOCKS proxies are not supported (undici's SOCKS5 support is experimental); use an http:// or https:// proxy`,
    );
  }
  throw new ProxyPoolError(
    'PROXY_POOL_UNSUPPORTED_PROTOCOL',
    `${redactProxyUrl(url)}: only http:// and https:// proxies are supported`,
  );
}

export function normalizeProxy(spec: ProxySpec): NormalizedProxy {
  if (!ID.test(spec.id)) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_PROXY', `id must match ${String(ID)}`);
  }
  assertSupportedProxyUrl(spec.url);
  for (const tag of spec.tags) {
    if (!TAG.test(tag))
      throw new ProxyPoolError('PROXY_POOL_INVALID_PROXY', `tag "${tag}" must match ${String(TAG)}`);
  }
  const country = spec.country?.toUpperCase() ?? '';
  if (country && !COUNTRY.test(country)) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_PROXY', 'country must be an ISO 3166-1 alpha-2 code');
  }
  if (
    !Number.isInteger(spec.maxConcurrency) ||
    spec.maxConcurrency < 1 ||
    spec.maxConcurrency > MAX_CONCURRENCY
  ) {
    throw new ProxyPoolError(
      'PROXY_POOL_INVALID_PROXY',
      `maxConcurrency must be an integer from 1 to ${MAX_CONCURRENCY.toLocaleString('en')}`,
    );
  }
  if (!Number.isFinite(spec.pricePerGbUsd) || spec.pricePerGbUsd < 0) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_PROXY', 'pricePerGbUsd must be a non-negative number');
  }
  return {
    id: spec.id,
    url: spec.url,
    tags: [...new Set(spec.tags)].sort(),
    country,
    maxConcurrency: spec.maxConcurrency,
    pricePerGbUsd: spec.pricePerGbUsd,
  };
}

/** Host names compare case-insensitively and without a trailing dot. */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!HOST.test(h)) throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'host is empty or malformed');
  return h;
}

export interface NormalizedLeaseRequest {
  host: string;
  tags: string[];
  country: string;
  session: string;
}

export function normalizeLeaseRequest(req: LeaseRequest): NormalizedLeaseRequest {
  if (req.lane !== 'interactive' && req.lane !== 'batch') {
    throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'lane must be interactive or batch');
  }
  const tags = req.tags ?? [];
  for (const tag of tags) {
    if (!TAG.test(tag)) throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', `tag "${tag}" is malformed`);
  }
  const country = req.country?.toUpperCase() ?? '';
  if (country && !COUNTRY.test(country)) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'country must be an ISO 3166-1 alpha-2 code');
  }
  const session = req.session ?? '';
  if (session.length > 512) throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'session key is too long');
  return { host: normalizeHost(req.host), tags, country, session };
}
