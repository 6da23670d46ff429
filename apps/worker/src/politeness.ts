import type { Config } from '@switchyard/config';
import {
  fetchRobotsTxt,
  HostGate,
  politenessKeys,
  ROBOTS_EXEMPT_HOSTS_FIELD,
  RobotsCache,
  TargetGuard,
  TargetPolicy,
  type HostClaim,
  type HostLease,
  type PolitenessKeys,
  type RobotsFetch,
  type RobotsVerdict,
} from '@switchyard/scrape';
import type { Logger } from '@switchyard/telemetry';
import type { Cluster, Redis } from 'ioredis';
import type { Dispatcher } from 'undici';

export interface PolitenessOptions {
  redis: Redis | Cluster;
  prefix: string;
  scrape: Config['scrape'];
  /** A host lease outlives the request it covers by this much (the pool's lease margin). */
  leaseMarginMs: number;
  logger: Logger;
}

/** What robots.txt says of a URL for this job; `unknown` until the fleet has fetched it. */
export type RobotsAnswer = RobotsVerdict | { kind: 'unknown' } | { kind: 'exempt' };

const DELAY_LOG_EVERY_MS = 30_000;

/**
 * A scrape's manners (docs/adr/0012-robots-and-per-host-politeness.md): robots.txt per origin,
 * cached in Redis for the fleet, and the per-host gate (concurrency, interval, Crawl-delay,
 * Retry-After pauses) every worker and proxy share. Either can be turned off in the config.
 */
export class ScrapePoliteness {
  private readonly opts: PolitenessOptions;
  private readonly keys: PolitenessKeys;
  private readonly gate: HostGate | undefined;
  private readonly cache: RobotsCache | undefined;
  private readonly guard: TargetGuard;
  /** The last "delayed for host" info line per host, so a busy host logs once in a while. */
  private readonly delayLogged = new Map<string, { at: number; since: number }>();

  constructor(opts: PolitenessOptions) {
    this.opts = opts;
    const { redis, prefix, scrape } = opts;
    this.keys = politenessKeys(prefix);
    const leaseTtlMs = scrape.timeoutMs + opts.leaseMarginMs;
    const { perHost, robots } = scrape;
    if (perHost.enabled)
      this.gate = new HostGate({ redis, prefix, maxConcurrency: perHost.maxConcurrency, leaseTtlMs });
    if (robots.enabled) this.cache = new RobotsCache({ redis, prefix, ttlSeconds: robots.ttlSeconds });
    this.guard = new TargetGuard({ policy: new TargetPolicy(scrape) });
  }

  /** Nothing to do: both robots.txt and per-host politeness are off. */
  get off(): boolean {
    return !this.gate && !this.cache;
  }

  get token(): string {
    return this.opts.scrape.robots.userAgent;
  }

  /** The fleet's robots.txt verdict for `url` (a tenant exempt for that host skips it). */
  async robots(url: URL, tenantId: string): Promise<RobotsAnswer> {
    if (!this.cache) return { kind: 'exempt' };
    if (await this.exempt(tenantId, url.hostname)) return { kind: 'exempt' };
    const view = await this.cache.get(url.origin);
    return view ? view.verdict(url.href, this.token) : { kind: 'unknown' };
  }

  /** The interval between starts at the host: the configured one, raised by a Crawl-delay. */
  intervalMs(answer: RobotsAnswer): number {
    const { minIntervalMs, maxDelayMs } = this.opts.scrape.perHost;
    const delay = answer.kind === 'allowed' ? (answer.crawlDelayMs ?? 0) : 0;
    return Math.max(minIntervalMs, Math.min(delay, maxDelayMs));
  }

  /** A slot at the host, or a ticket to wait for; undefined when per-host politeness is off. */
  claim(
    host: string,
    jobId: string,
    opts: { intervalMs: number; deadline: number; resume?: boolean },
  ): Promise<HostClaim> | undefined {
    return this.gate?.claim(host, jobId, opts);
  }

  /**
   * Reports that the request of `lease` leaves now (the host's interval counts from here). Not
   * awaited by the send: the report is written to Redis before the request is handed to undici,
   * and commands on one connection run in order, so it lands before this lease's release. A
   * failed report is logged: the reservation then holds the host until released.
   */
  async started(lease: HostLease): Promise<void> {
    await this.gate?.started(lease).catch((err: unknown) => {
      this.opts.logger.warn({ err, host: lease.host }, 'host start report failed');
    });
  }

  /** Gives a slot back; a Retry-After (429 or 503) pauses the host for the fleet, capped. */
  async release(lease: HostLease, retryAfterMs?: number, fromEnd = false): Promise<void> {
    const pauseMs = Math.min(retryAfterMs ?? 0, this.opts.scrape.perHost.maxPauseMs);
    await this.gate?.release(lease, { pauseMs, fromEnd }).catch((err: unknown) => {
      // The lease expires on its own; only the pause would be lost.
      this.opts.logger.warn({ err, host: lease.host }, 'host slot release failed');
    });
  }

  /**
   * Claims the origin's robots.txt fetch for one job: false while another job fetches it. The
   * claim ends when the verdict is stored (`store`, `endRobotsFetch`) or, if its job dies, after
   * a scrape's timeout.
   */
  async claimRobotsFetch(origin: string, jobId: string): Promise<boolean> {
    if (!this.cache) return true;
    const ttlMs = this.opts.scrape.timeoutMs + this.opts.leaseMarginMs;
    return (await this.opts.redis.set(this.keys.robotsFetch(origin), jobId, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Ends a claim without a verdict (the fetch failed through a proxy: another job tries). */
  async endRobotsFetch(origin: string): Promise<void> {
    await this.opts.redis.del(this.keys.robotsFetch(origin));
  }

  /** Fetches the origin's robots.txt through the attempt's dispatcher and the SSRF guard. */
  fetchRobots(origin: string, dispatcher: Dispatcher, beforeSend?: () => void): Promise<RobotsFetch> {
    const { scrape } = this.opts;
    return fetchRobotsTxt({
      origin,
      dispatcher,
      guard: this.guard,
      userAgent: scrape.userAgent,
      timeoutMs: scrape.timeoutMs,
      maxBytes: scrape.robots.maxBytes,
      signal: new AbortController().signal,
      beforeSend,
    });
  }

  /** Stores what a fetch found for the fleet: unreachable for the retry period (or the Retry-After). */
  async store(
    origin: string,
    fetched: RobotsFetch | { kind: 'unreachable'; retryAfterMs?: number },
  ): Promise<void> {
    if (!this.cache) return;
    const { unreachableRetryMs } = this.opts.scrape.robots;
    if (fetched.kind === 'unreachable') {
      const until = Date.now() + Math.max(unreachableRetryMs, fetched.retryAfterMs ?? 0);
      await this.cache.put(origin, { kind: 'unreachable', until });
    } else if (fetched.kind === 'rules') await this.cache.put(origin, { kind: 'rules', text: fetched.text });
    else await this.cache.put(origin, { kind: 'allow_all', status: fetched.status });
    await this.endRobotsFetch(origin);
  }

  /** The tenant's `robots_exempt_hosts` (set by an admin) names this host. */
  private async exempt(tenantId: string, hostname: string): Promise<boolean> {
    const raw = await this.opts.redis.hget(this.keys.tenant(tenantId), ROBOTS_EXEMPT_HOSTS_FIELD);
    if (!raw) return false;
    try {
      const hosts = JSON.parse(raw) as unknown;
      return Array.isArray(hosts) && hosts.includes(hostname.toLowerCase());
    } catch {
      return false;
    }
  }

  /** An info line per host at most every 30 s while its jobs wait; each delay is logged at debug. */
  noteDelay(host: string, fields: Record<string, unknown>): void {
    const { logger } = this.opts;
    logger.debug({ host, ...fields }, 'scrape delayed for its host');
    const now = Date.now();
    const seen = this.delayLogged.get(host) ?? { at: 0, since: 0 };
    seen.since++;
    if (now - seen.at >= DELAY_LOG_EVERY_MS) {
      logger.info({ host, delayed: seen.since, ...fields }, 'scrapes waiting for their host (politeness)');
      seen.at = now;
      seen.since = 0;
    }
    this.delayLogged.set(host, seen);
    if (this.delayLogged.size > 10_000) this.delayLogged.delete(this.delayLogged.keys().next().value ?? host);
  }
}
