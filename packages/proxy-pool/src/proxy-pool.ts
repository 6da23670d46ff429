import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ProxyPoolError } from './errors.ts';
import { poolKeys, type PoolKeys } from './keys.ts';
import { LeaseCalls, RECLAIM_BATCH } from './lease-calls.ts';
import { GrantedLease, type ProbeTarget } from './lease.ts';
import type { PoolMetrics } from './metrics.ts';
import { resolvePoolOptions } from './options.ts';
import type { ProxyPoolOptions } from './options.ts';
import { PoolAdmin } from './pool-admin.ts';
import { readCounts, readPoolHealth } from './pool-reader.ts';
import { ReleaseStats } from './release-stats.ts';
import { defineScripts, upgradeFirst, type ScriptRunner } from './scripts.ts';
import { ServerClock } from './server-clock.ts';
import { OUTCOMES } from './types.ts';
import type {
  Exhausted,
  Lease,
  LeaseRequest,
  LeaseResult,
  PoolCounts,
  PoolLogger,
  ProbeReport,
  ProxyHealth,
  ProxySpec,
  ReleaseReport,
  ReleaseResult,
} from './types.ts';
import { normalizeHost, normalizeLeaseRequest } from './validate.ts';

const PENALISING = new Set(['rate_limited', 'blocked', 'proxy_fault']);
const KNOWN_OUTCOMES = new Set<string>(OUTCOMES);
/** Each process reclaims a batch of expired leases inside lease at most this often (and always
 * before answering exhausted), which keeps the reclaim scan off the hot path. */
const RECLAIM_EVERY_MS = 100;
/** The lease's member in the leases set: its id, its fencing epoch and its proxy. */
const leaseMember = (l: Pick<Lease, 'leaseId' | 'epoch' | 'proxyId'>) =>
  `${l.leaseId}|${l.epoch}|${l.proxyId}`;

/** What release-many-5.lua answers for a lease besides a penalty (ms, >= 0). */
const STALE = -1;

function validTtl(ms: number): number {
  if (!(Number.isFinite(ms) && ms > 0))
    throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'ttlMs must be positive');
  return Math.ceil(ms);
}

/** The egress proxy pool: state in Redis, every change one Lua script. See README.md. */
export class ProxyPool {
  readonly keys: PoolKeys;
  readonly #redis: Redis | Cluster;
  readonly #run: ScriptRunner;
  readonly #argBase: string;
  readonly #leaseTtlMs: number;
  readonly #clock: ServerClock;
  readonly #random: () => number;
  readonly #leaseIdPrefix = randomBytes(6).toString('base64url');
  #leaseCount = 0;
  #lastReclaimAt = -Infinity;
  readonly #metrics: PoolMetrics | undefined;
  readonly #logger: PoolLogger | undefined;
  /** Leases and plain releases issued in the same tick share one script call. */
  readonly #calls: LeaseCalls;
  /** Release counts per proxy for the admin table, sent to Redis in batches. */
  readonly #stats: ReleaseStats;
  readonly #admin: PoolAdmin;

  constructor(opts: ProxyPoolOptions) {
    this.keys = poolKeys(opts.prefix);
    this.#redis = opts.redis;
    // Keys the scripts build themselves do not get the client's keyPrefix; KEYS[] do.
    const clientPrefix = (opts.redis.options as { keyPrefix?: string }).keyPrefix ?? '';
    this.#argBase = clientPrefix + this.keys.base;
    this.#run = upgradeFirst(defineScripts(opts.redis), this.keys, this.#argBase);
    const o = resolvePoolOptions(opts);
    this.#leaseTtlMs = o.leaseTtlMs;
    this.#clock = new ServerClock(opts.redis, opts.now);
    this.#random = opts.random ?? Math.random;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#calls = new LeaseCalls({
      keys: this.keys,
      run: this.#run,
      argBase: this.#argBase,
      clock: this.#clock,
      options: o,
    });
    this.#stats = new ReleaseStats(
      (args) => this.#run('count', [this.keys.born], [this.#argBase, ...args]),
      o.statsFlushMs,
    );
    this.#admin = new PoolAdmin({
      keys: this.keys,
      run: this.#run,
      argBase: this.#argBase,
      clock: this.#clock,
      random: this.#random,
      jitter: o.jitter,
      quarantine: o.quarantine,
      logger: this.#logger,
    });
    this.#metrics?.attach(this);
  }

  /** Adds a proxy or updates it in place (keeping in-flight leases, counters and health); a new
   * URL or price applies from its next lease. */
  upsert(spec: ProxySpec): Promise<'created' | 'updated'> {
    return this.#admin.upsert(spec);
  }

  /** Removes a proxy and ends its in-flight leases: a late release of one is stale and changes nothing. */
  remove(id: string): Promise<boolean> {
    return this.#admin.remove(id);
  }

  /** Stops new leases on a proxy; in-flight ones finish. Resolves to its in-flight count, or null. */
  drain(id: string): Promise<number | null> {
    return this.#admin.drain(id, true);
  }

  /** Puts a drained proxy back in service (through a probe first if it had faults). */
  undrain(id: string): Promise<number | null> {
    return this.#admin.drain(id, false);
  }

  /** Claims quarantined proxies whose backoff has run out, for a probe. */
  probeDue(limit = 32): Promise<ProbeTarget[]> {
    return this.#admin.probeDue(limit);
  }

  /** Re-admits a quarantined proxy after a good probe, or extends its quarantine after a bad one. */
  reportProbe(id: string, ok: boolean): Promise<ProbeReport> {
    return this.#admin.reportProbe(id, ok);
  }

  /** Every proxy with its health, URLs redacted, sorted by id. Its release counts include this
   * process's releases so far and other processes' up to a second ago (see ReleaseStats). */
  async list(): Promise<ProxyHealth[]> {
    await this.flush();
    await this.reclaimExpired();
    return readPoolHealth(this.#redis, this.keys, await this.#clock.now());
  }

  /** Sends this process's release counts to Redis now (they go every second anyway); call it
   * before the process exits. */
  flush(): Promise<void> {
    return this.#stats.flush();
  }

  /** Pool-wide counts (what the gauges show). */
  async counts(): Promise<PoolCounts> {
    await this.reclaimExpired();
    return readCounts(this.#redis, this.keys, await this.#clock.now());
  }

  /** Leases a proxy for one request to `req.host`, or says when to try again. */
  async lease(req: LeaseRequest): Promise<LeaseResult> {
    const started = performance.now();
    const r = normalizeLeaseRequest(req);
    const ttlMs = validTtl(req.ttlMs ?? this.#leaseTtlMs);
    const leaseId = `${this.#leaseIdPrefix}${(this.#leaseCount++).toString(36)}`;
    let reclaim = 0;
    if (started - this.#lastReclaimAt >= RECLAIM_EVERY_MS) {
      this.#lastReclaimAt = started;
      reclaim = RECLAIM_BATCH;
    }
    const reply = await this.#calls.lease({
      r,
      lane: req.lane === 'batch' ? 'b' : 'i',
      ttlMs,
      leaseId,
      seed: Math.floor(this.#random() * 2 ** 31),
      reclaim,
    });
    const seconds = (performance.now() - started) / 1000;
    if (reply.leased) {
      this.#metrics?.leaseObserved(req.lane, 'leased', seconds);
      const { proxyId, epoch, expiresAt, pricePerGbUsd } = reply;
      return new GrantedLease(
        { leaseId, proxyId, epoch, expiresAt, host: r.host, lane: req.lane, pricePerGbUsd },
        reply.proxyUrl,
      );
    }
    const { reason, retryAfterMs } = reply;
    const exhausted: Exhausted = { exhausted: true, reason, retryAfterMs };
    this.#metrics?.leaseObserved(req.lane, exhausted.reason, seconds);
    this.#logger?.debug?.({ lane: req.lane, host: r.host, ...exhausted }, 'proxy pool exhausted');
    return exhausted;
  }

  /** Ends a lease and applies its outcome; 'stale' when the lease expired or was fenced off. */
  async release(lease: Lease, report: ReleaseReport): Promise<ReleaseResult> {
    const { outcome } = report;
    if (!KNOWN_OUTCOMES.has(outcome)) {
      throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', `unknown outcome "${String(outcome)}"`);
    }
    const host = normalizeHost(lease.host);
    const bytes = Math.max(0, Math.round(report.bytes ?? 0));
    const penalty = await this.#calls.release({
      member: leaseMember(lease),
      outcome,
      host,
      ...(PENALISING.has(outcome) ? { retryAfterMs: report.retryAfterMs, random: this.#random() } : {}),
    });
    const stale = penalty === STALE;
    if (penalty >= 0) this.#stats.add(lease.proxyId, lease.epoch, outcome, bytes);
    this.#metrics?.releaseObserved(lease.proxyId, outcome, bytes, stale);
    if (stale) {
      this.#logger?.info(
        { leaseId: lease.leaseId, proxyId: lease.proxyId },
        'stale proxy lease release ignored',
      );
      return 'stale';
    }
    if (penalty > 0) this.#logPenalty(lease.proxyId, host, outcome, penalty);
    return 'released';
  }

  #logPenalty(proxyId: string, host: string, outcome: string, ms: number): void {
    if (outcome === 'rate_limited')
      this.#logger?.debug?.({ proxyId, host, cooldownMs: ms }, 'proxy cooling for host');
    else if (outcome === 'blocked') this.#logger?.warn({ proxyId, host, banMs: ms }, 'proxy banned for host');
    else this.#logger?.warn({ proxyId, quarantineMs: ms }, 'proxy quarantined');
  }

  /** Extends a live lease by `ttlMs` from now (default: the pool's lease TTL). */
  async renew(lease: Lease, ttlMs = this.#leaseTtlMs): Promise<Lease | 'stale'> {
    const expiresAt = (await this.#run(
      'renew',
      [this.keys.leases],
      [this.#clock.arg(), leaseMember(lease), validTtl(ttlMs)],
    )) as number;
    if (expiresAt < 0) return 'stale';
    return new GrantedLease({ ...lease, expiresAt }, lease.proxyUrl);
  }

  /** Gives back the capacity of expired leases now (lease does it lazily); returns how many. */
  async reclaimExpired(limit = 10_000): Promise<number> {
    const k = this.keys;
    return (await this.#run(
      'reclaim',
      [k.leases, k.timers, k.sessions, k.hosts],
      [this.#argBase, this.#clock.arg(), limit],
    )) as number;
  }
}
