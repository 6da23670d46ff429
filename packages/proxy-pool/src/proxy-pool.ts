import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ProxyPoolError } from './errors.ts';
import { poolKeys, type PoolKeys } from './keys.ts';
import { LeaseCalls, RECLAIM_BATCH } from './lease-calls.ts';
import { GrantedLease, ProbeTarget } from './lease.ts';
import type { PoolMetrics } from './metrics.ts';
import { resolvePoolOptions } from './options.ts';
import type { ProxyPoolOptions, QuarantineOptions } from './options.ts';
import { readCounts, readPoolHealth } from './pool-reader.ts';
import { ReleaseStats } from './release-stats.ts';
import { defineScripts, type ScriptArg } from './scripts.ts';
import { ServerClock } from './server-clock.ts';
import { OUTCOMES } from './types.ts';
import type {
  Exhausted,
  ExhaustedReason,
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
import { normalizeHost, normalizeLeaseRequest, normalizeProxy } from './validate.ts';

const PENALISING = new Set(['rate_limited', 'blocked', 'proxy_fault']);
const KNOWN_OUTCOMES = new Set<string>(OUTCOMES);
/** Each process reclaims a batch of expired leases inside lease at most this often (and always
 * before answering exhausted), which keeps the reclaim scan off the hot path. */
const RECLAIM_EVERY_MS = 100;
/** The lease's member in the leases set: its id, its fencing epoch and its proxy. */
const leaseMember = (l: Pick<Lease, 'leaseId' | 'epoch' | 'proxyId'>) =>
  `${l.leaseId}|${l.epoch}|${l.proxyId}`;

/** What release-8.lua answers besides a penalty (ms, >= 0). */
const STALE = -1;
const PROXY_GONE = -2;
/** release-plain and release-many answer -1 (stale: expired, released, or its proxy removed since),
 * 0 (its proxy is gone but the lease was still recorded) or 1 (ended on its proxy): as
 * release-8.lua would, with no penalty. */
const plainAnswer = (n: number) => (n === 1 ? 0 : n === 0 ? PROXY_GONE : STALE);

function validTtl(ms: number): number {
  if (!(Number.isFinite(ms) && ms > 0))
    throw new ProxyPoolError('PROXY_POOL_INVALID_REQUEST', 'ttlMs must be positive');
  return Math.ceil(ms);
}

/** The egress proxy pool: state in Redis, every change one Lua script. See README.md. */
export class ProxyPool {
  readonly keys: PoolKeys;
  readonly #redis: Redis | Cluster;
  readonly #run: (name: string, keys: string[], args: ScriptArg[]) => Promise<unknown>;
  readonly #argBase: string;
  readonly #leaseTtlMs: number;
  readonly #quarantine: QuarantineOptions;
  readonly #jitter: number;
  /** ARGV[8..16] of release for penalising outcomes, after retryAfter and the random number. */
  readonly #penaltyArgs: number[];
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

  constructor(opts: ProxyPoolOptions) {
    this.keys = poolKeys(opts.prefix);
    this.#redis = opts.redis;
    this.#run = defineScripts(opts.redis);
    // Keys the scripts build themselves do not get the client's keyPrefix; KEYS[] do.
    const clientPrefix = (opts.redis.options as { keyPrefix?: string }).keyPrefix ?? '';
    this.#argBase = clientPrefix + this.keys.base;
    const o = resolvePoolOptions(opts);
    this.#leaseTtlMs = o.leaseTtlMs;
    this.#jitter = o.jitter;
    this.#quarantine = o.quarantine;
    this.#penaltyArgs = [
      o.jitter,
      o.cooldown.baseMs,
      o.cooldown.maxMs,
      o.cooldown.resetAfterMs,
      o.ban.afterBlocks,
      o.ban.windowMs,
      o.ban.durationMs,
      o.quarantine.baseMs,
      o.quarantine.maxMs,
    ];
    this.#clock = new ServerClock(opts.redis, opts.now);
    this.#random = opts.random ?? Math.random;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#calls = new LeaseCalls({
      keys: this.keys,
      run: this.#run,
      argBase: this.#argBase,
      clock: this.#clock,
      reserve: o.interactiveReserve,
      sessionTtlMs: o.sessionTtlMs,
      exhaustedRetryMs: o.exhaustedRetryMs,
    });
    this.#stats = new ReleaseStats(
      (args) => this.#run('count', [this.keys.born], [this.#argBase, ...args]),
      o.statsFlushMs,
    );
    this.#metrics?.attach(this);
  }

  /** Adds a proxy or updates it in place (keeping in-flight leases, counters and health). */
  async upsert(spec: ProxySpec): Promise<'created' | 'updated'> {
    const p = normalizeProxy(spec);
    const created = await this.#run(
      'upsert',
      [this.keys.meta, this.keys.ids],
      [this.#argBase, p.id, p.url, p.tags.join(' '), p.country, p.maxConcurrency, p.pricePerGbUsd],
    );
    return created === 1 ? 'created' : 'updated';
  }

  /** Removes a proxy and ends its in-flight leases: a late release of one is stale and changes nothing. */
  async remove(id: string): Promise<boolean> {
    const k = this.keys;
    return (
      (await this.#run(
        'remove',
        [k.meta, k.ids, k.quarantine, k.draining, k.leases],
        [this.#argBase, id],
      )) === 1
    );
  }

  /** Stops new leases on a proxy; in-flight ones finish. Resolves to its in-flight count, or null. */
  drain(id: string): Promise<number | null> {
    return this.#drain(id, true);
  }

  /** Puts a drained proxy back in service (through a probe first if it had faults). */
  undrain(id: string): Promise<number | null> {
    return this.#drain(id, false);
  }

  async #drain(id: string, on: boolean): Promise<number | null> {
    const k = this.keys;
    const n = (await this.#run(
      'drain',
      [k.meta, k.quarantine, k.draining],
      [this.#argBase, id, on ? '1' : '0', this.#clock.arg()],
    )) as number;
    return n < 0 ? null : n;
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
    if (reply[0] === 1) {
      this.#metrics?.leaseObserved(req.lane, 'leased', seconds);
      return new GrantedLease(
        {
          leaseId,
          proxyId: reply[1],
          epoch: reply[3] ?? 0,
          expiresAt: reply[4] ?? 0,
          host: r.host,
          lane: req.lane,
        },
        String(reply[2]),
      );
    }
    const exhausted: Exhausted = {
      exhausted: true,
      reason: reply[1] as ExhaustedReason,
      retryAfterMs: Number(reply[2]),
    };
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
    const penalty = PENALISING.has(outcome)
      ? await this.#releaseWithPenalty(lease, host, outcome, report.retryAfterMs)
      : // the common case: a script that touches only the leases set and the proxy's scores,
        // shared with the other plain releases of this tick
        plainAnswer(
          await this.#calls.releasePlain({
            member: leaseMember(lease),
            proxyId: lease.proxyId,
            outcome,
          }),
        );
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

  async #releaseWithPenalty(
    lease: Lease,
    host: string,
    outcome: string,
    retryAfterMs: number | undefined,
  ): Promise<number> {
    const k = this.keys;
    return (await this.#run(
      'release',
      [
        k.leases,
        k.timers,
        k.meta,
        k.quarantine,
        k.hosts,
        k.excluded(host),
        k.banned(host),
        k.hostScores(host),
      ],
      [
        this.#argBase,
        this.#clock.arg(),
        leaseMember(lease),
        outcome,
        host,
        retryAfterMs === undefined ? '' : Math.ceil(retryAfterMs),
        this.#random(),
        ...this.#penaltyArgs,
      ],
    )) as number;
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

  /** Claims quarantined proxies whose backoff has run out, for a probe. */
  async probeDue(limit = 32): Promise<ProbeTarget[]> {
    const flat = (await this.#run(
      'probe-due',
      [this.keys.quarantine],
      [this.#argBase, this.#clock.arg(), limit, this.#quarantine.probeClaimMs],
    )) as string[];
    const out: ProbeTarget[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push(new ProbeTarget(flat[i] ?? '', flat[i + 1] ?? ''));
    return out;
  }

  /** Re-admits a quarantined proxy after a good probe, or extends its quarantine after a bad one. */
  async reportProbe(id: string, ok: boolean): Promise<ProbeReport> {
    const reply = (await this.#run(
      'report-probe',
      [this.keys.meta, this.keys.quarantine],
      [
        this.#argBase,
        id,
        ok ? '1' : '0',
        this.#clock.arg(),
        this.#random(),
        this.#jitter,
        this.#quarantine.baseMs,
        this.#quarantine.maxMs,
      ],
    )) as [string, number?];
    if (reply[0] === 'extended') {
      this.#logger?.warn({ proxyId: id, until: reply[1] }, 'proxy probe failed; quarantine extended');
      return { status: 'extended', until: reply[1] ?? 0 };
    }
    if (reply[0] === 'readmitted') this.#logger?.info({ proxyId: id }, 'proxy re-admitted after probe');
    return { status: reply[0] as 'readmitted' | 'noop' | 'unknown' };
  }
}
