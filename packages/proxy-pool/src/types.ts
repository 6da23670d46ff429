/** Which queue lane a lease serves: interactive requests may use the capacity batch may not. */
export type Lane = 'interactive' | 'batch';

/** Every way a leased request can end, as the caller classifies it (the catalog in contracts). */
import type { Outcome } from '@switchyard/contracts';

export { OUTCOMES, type Outcome } from '@switchyard/contracts';

/** An egress proxy as configured. The URL may carry credentials; nothing returned shows them. */
export interface ProxySpec {
  id: string;
  /** `http://` or `https://` forward proxy, optionally `user:pass@`. */
  url: string;
  tags: string[];
  /** ISO 3166-1 alpha-2, upper case. */
  country?: string;
  maxConcurrency: number;
  pricePerGbUsd: number;
}

export interface LeaseRequest {
  lane: Lane;
  /** The target host the request goes to; cooldowns and bans are per (proxy, host). */
  host: string;
  /** The proxy must carry all of these tags. */
  tags?: string[];
  country?: string;
  /** Sticky session: the same proxy while it stays healthy and eligible. */
  session?: string;
  /** Overrides the pool's lease TTL for this lease. */
  ttlMs?: number;
}

/** A granted lease. `proxyUrl` carries credentials and is non-enumerable, so logging a lease hides it. */
export interface Lease {
  readonly exhausted?: false;
  readonly leaseId: string;
  readonly proxyId: string;
  readonly proxyUrl: string;
  /** Fencing token: grows with every lease the pool grants. */
  readonly epoch: number;
  readonly expiresAt: number;
  readonly host: string;
  readonly lane: Lane;
  /** The proxy's price (USD per GB through it) when the lease was granted. */
  readonly pricePerGbUsd: number;
}

/** Why a lease was refused: `reserve` (batch lane hit the interactive reserve), `capacity`
 * (no matching proxy in service has a free slot) or `cooling` (all candidates cool or are banned
 * for this host). */
export type ExhaustedReason = 'reserve' | 'capacity' | 'cooling';

export interface Exhausted {
  readonly exhausted: true;
  readonly reason: ExhaustedReason;
  /** When capacity may come back: the earliest cooldown end seen, or a small default. */
  readonly retryAfterMs: number;
}

export type LeaseResult = Lease | Exhausted;

export interface ReleaseReport {
  outcome: Outcome;
  /** Bytes sent plus received through the proxy for this request. */
  bytes?: number;
  /** The target's Retry-After, for `rate_limited`. */
  retryAfterMs?: number;
}

export type ReleaseResult = 'released' | 'stale';

export type ProxyState = 'available' | 'cooling' | 'quarantined' | 'draining';

export interface HostExclusion {
  host: string;
  until: number;
}

/** One proxy's configuration (URL redacted) and health. */
export interface ProxyHealth {
  id: string;
  url: string;
  tags: string[];
  country?: string;
  maxConcurrency: number;
  pricePerGbUsd: number;
  state: ProxyState;
  inFlight: number;
  outcomes: Record<Outcome | 'expired', number>;
  bytes: number;
  consecutiveFaults: number;
  quarantinedUntil?: number;
  /** (proxy, host) pairs cooling after a rate limit. */
  cooling: HostExclusion[];
  /** (proxy, host) pairs banned after repeated blocks. */
  banned: HostExclusion[];
}

/** Pool-wide numbers for gauges; `proxies` states are exclusive and sum to the pool size. */
export interface PoolCounts {
  proxies: Record<ProxyState, number>;
  /** Proxies with at least one banned (proxy, host) pair, whatever their state. */
  proxiesWithBans: number;
  bannedPairs: number;
  inFlight: number;
  /** Sum of maxConcurrency over proxies in service. */
  capacity: number;
}

/** The pino-shaped subset the pool logs through. */
export interface PoolLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What a probe report did: re-admitted the proxy, extended its quarantine, or nothing. */
export type ProbeReport =
  { status: 'readmitted' | 'noop' | 'unknown' } | { status: 'extended'; until: number };
