import { ProxyPoolError } from './errors.ts';

/**
 * Redis key names of one pool. Every key shares the `{pool}` hash tag, so all scripts run on one
 * Cluster slot; per-proxy, per-tag and per-host keys are built inside the scripts from `base`.
 */
export interface PoolKeys {
  /** `<prefix>:{pool}:`, what the scripts receive to build the dynamic key names. */
  readonly base: string;
  readonly meta: string;
  readonly ids: string;
  readonly leases: string;
  readonly timers: string;
  readonly sessions: string;
  readonly hosts: string;
  readonly quarantine: string;
  readonly draining: string;
  readonly available: string;
  /** Proxy id -> its availability sets, and its creation epoch: columns of the proxies' hashes
   * that release-many-5.lua and count-1.lua read for many proxies in one call. */
  readonly zks: string;
  readonly born: string;
  /** Proxies whose consecutive-fault count is not 0. */
  readonly faulty: string;
  proxy(id: string): string;
  excluded(host: string): string;
  banned(host: string): string;
  hostScores(host: string): string;
}

export function poolKeys(prefix: string): PoolKeys {
  if (!/^[^\s{}]+$/.test(prefix)) {
    throw new ProxyPoolError(
      'PROXY_POOL_INVALID_OPTIONS',
      'prefix must be non-empty, without spaces or braces',
    );
  }
  const base = `${prefix}:{pool}:`;
  return {
    base,
    meta: `${base}meta`,
    ids: `${base}ids`,
    leases: `${base}leases`,
    timers: `${base}timers`,
    sessions: `${base}sess`,
    hosts: `${base}hosts`,
    quarantine: `${base}quar`,
    draining: `${base}draining`,
    available: `${base}a`,
    zks: `${base}zk`,
    born: `${base}born`,
    faulty: `${base}faulty`,
    proxy: (id) => `${base}p:${id}`,
    excluded: (host) => `${base}x:${host}`,
    banned: (host) => `${base}ban:${host}`,
    hostScores: (host) => `${base}hs:${host}`,
  };
}
