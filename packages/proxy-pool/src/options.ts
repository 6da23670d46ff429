import type { Cluster, Redis } from 'ioredis';
import { ProxyPoolError } from './errors.ts';
import type { PoolMetrics } from './metrics.ts';
import { STATS_FLUSH_MS } from './release-stats.ts';
import type { PoolLogger } from './types.ts';

export interface CooldownOptions {
  /** First backoff of a rate-limited (proxy, host) pair without Retry-After; default 1 s. */
  baseMs: number;
  /** Longest cooldown, also the cap on Retry-After; default 10 min. */
  maxMs: number;
  /** A pair's rate-limit streak starts over this long after its last cooldown ended; default 1 min. */
  resetAfterMs: number;
}

export interface BanOptions {
  /** Blocks of one (proxy, host) pair within `windowMs` that ban it; default 3. */
  afterBlocks: number;
  /** Default 10 min. */
  windowMs: number;
  /** Default 1 h. */
  durationMs: number;
}

export interface QuarantineOptions {
  /** First quarantine after a proxy fault; doubles with each consecutive fault. Default 5 s. */
  baseMs: number;
  /** Default 5 min. */
  maxMs: number;
  /** How long a prober's claim on a due proxy lasts before another prober may take it; default 30 s. */
  probeClaimMs: number;
}

/** Pacing of (proxy, host) pairs after a 429 (ADR 0013): AIMD on the starts per second. */
export interface PacingOptions {
  /** Starts per second a pair may make after its first 429; 0 turns pacing off. Default 10. */
  startRps: number;
  /** Each further 429 (one per episode) multiplies the rate by this, 0..1; default 0.5. */
  decrease: number;
  /** Each success adds this many starts per second; default 0.1. */
  increaseRps: number;
  /** The rate never goes below this; default 0.2 (one start per 5 s). */
  minRps: number;
  /** A pair raised to this rate is unpaced again; default 100. */
  maxRps: number;
  /** A pair's pacing lapses this long after its last release; default 5 min. */
  idleMs: number;
}

export interface ProxyPoolOptions {
  redis: Redis | Cluster;
  /** Key prefix; keys are `<prefix>:{pool}:...`. */
  prefix: string;
  /** Default 30 s; a lease not released or renewed by then gives its slot back. */
  leaseTtlMs?: number;
  /** Share of total capacity only interactive leases may use; default 0.1. */
  interactiveReserve?: number;
  /** Idle time after which a sticky session is forgotten; default 10 min. */
  sessionTtlMs?: number;
  cooldown?: Partial<CooldownOptions>;
  ban?: Partial<BanOptions>;
  quarantine?: Partial<QuarantineOptions>;
  pacing?: Partial<PacingOptions>;
  /** Share by which backoffs are randomly shortened, 0..1; default 0.2. */
  jitter?: number;
  /** Retry hint when exhaustion has no better one; default 500 ms. */
  exhaustedRetryMs?: number;
  /** How often this process sends its release counts (the admin table's released, bytes and
   * outcomes) to Redis; default 1 s. Longer means fewer writes and an admin table further behind. */
  statsFlushMs?: number;
  /** Clock for tests; by default the pool runs on the Redis server's clock. */
  now?: () => number;
  /** Random source in [0, 1) for jitter and sampling; default Math.random. */
  random?: () => number;
  metrics?: PoolMetrics;
  logger?: PoolLogger;
}

export const DEFAULT_COOLDOWN: CooldownOptions = { baseMs: 1000, maxMs: 600_000, resetAfterMs: 60_000 };
export const DEFAULT_BAN: BanOptions = { afterBlocks: 3, windowMs: 600_000, durationMs: 3_600_000 };
export const DEFAULT_PACING: PacingOptions = {
  startRps: 10,
  decrease: 0.5,
  increaseRps: 0.1,
  minRps: 0.2,
  maxRps: 100,
  idleMs: 300_000,
};
export const DEFAULT_QUARANTINE: QuarantineOptions = { baseMs: 5000, maxMs: 300_000, probeClaimMs: 30_000 };

/** The pool's tunables with defaults applied and checked. */
export interface ResolvedPoolOptions {
  leaseTtlMs: number;
  interactiveReserve: number;
  sessionTtlMs: number;
  exhaustedRetryMs: number;
  statsFlushMs: number;
  jitter: number;
  cooldown: CooldownOptions;
  ban: BanOptions;
  quarantine: QuarantineOptions;
  pacing: PacingOptions;
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_OPTIONS', `${name} must be a positive number`);
  }
  return v;
}

function share(name: string, v: number, max: number): number {
  if (!(v >= 0 && v <= max))
    throw new ProxyPoolError('PROXY_POOL_INVALID_OPTIONS', `${name} must be in [0, ${max}]`);
  return v;
}

export function resolvePoolOptions(opts: ProxyPoolOptions): ResolvedPoolOptions {
  const cooldown = { ...DEFAULT_COOLDOWN, ...opts.cooldown };
  const ban = { ...DEFAULT_BAN, ...opts.ban };
  const quarantine = { ...DEFAULT_QUARANTINE, ...opts.quarantine };
  for (const [name, v] of Object.entries({
    ...cooldown,
    ...quarantine,
    banWindowMs: ban.windowMs,
    banMs: ban.durationMs,
  })) {
    positive(name, v);
  }
  const pacing = { ...DEFAULT_PACING, ...opts.pacing };
  if (pacing.startRps !== 0) positive('pacing.startRps', pacing.startRps);
  share('pacing.decrease', pacing.decrease, 1);
  positive('pacing.increaseRps', pacing.increaseRps);
  positive('pacing.minRps', pacing.minRps);
  positive('pacing.idleMs', pacing.idleMs);
  if (!(pacing.maxRps > pacing.minRps)) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_OPTIONS', 'pacing.maxRps must exceed pacing.minRps');
  }
  if (!Number.isInteger(ban.afterBlocks) || ban.afterBlocks < 1) {
    throw new ProxyPoolError('PROXY_POOL_INVALID_OPTIONS', 'ban.afterBlocks must be a positive integer');
  }
  return {
    leaseTtlMs: positive('leaseTtlMs', opts.leaseTtlMs ?? 30_000),
    interactiveReserve: share('interactiveReserve', opts.interactiveReserve ?? 0.1, 0.99),
    sessionTtlMs: positive('sessionTtlMs', opts.sessionTtlMs ?? 600_000),
    exhaustedRetryMs: positive('exhaustedRetryMs', opts.exhaustedRetryMs ?? 500),
    statsFlushMs: positive('statsFlushMs', opts.statsFlushMs ?? STATS_FLUSH_MS),
    jitter: share('jitter', opts.jitter ?? 0.2, 1),
    cooldown,
    ban,
    quarantine,
    pacing,
  };
}
