export { ProxyPool } from './proxy-pool.ts';
export type {
  BanOptions,
  CooldownOptions,
  PacingOptions,
  ProxyPoolOptions,
  QuarantineOptions,
} from './options.ts';
export { ProxyDispatchers } from './dispatchers.ts';
export type { ProxyDispatchersOptions } from './dispatchers.ts';
export { PoolMetrics } from './metrics.ts';
export type { PoolCountsSource, PoolMetricsOptions } from './metrics.ts';
export { ProxyProber, createHttpProbe } from './prober.ts';
export type { HttpProbeOptions, ProbeFn, ProbeOutcome, ProxyProberOptions } from './prober.ts';
export { GrantedLease, ProbeTarget } from './lease.ts';
export { formatPoolTable } from './format-table.ts';
export { redactProxyUrl } from './redact.ts';
export { ProxyPoolError, PROXY_POOL_ERRORS } from './errors.ts';
export type { ProxyPoolErrorCode } from './errors.ts';
export { poolKeys } from './keys.ts';
export type { PoolKeys } from './keys.ts';
export { OUTCOMES } from './types.ts';
export type * from './types.ts';
