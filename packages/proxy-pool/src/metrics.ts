import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ExhaustedReason, Lane, Outcome, PoolCounts, ProxyState } from './types.ts';

/** Where the pool-wide gauges come from (a `ProxyPool`). */
export interface PoolCountsSource {
  counts(): Promise<PoolCounts>;
}

export interface PoolMetricsOptions {
  registry: Registry;
  /** Metric name prefix; default `switchyard_pool_`. */
  prefix?: string;
  /** How long one read of the pool-wide counts serves all gauges of a scrape; default 1000 ms. */
  countsMaxAgeMs?: number;
}

const STATES: ProxyState[] = ['available', 'cooling', 'quarantined', 'draining'];

/**
 * Prometheus metrics of one pool. Counters and the wait histogram are per process; the gauges
 * (leases in flight, capacity, proxies by state, bans) are read from Redis at scrape time, so every
 * process reports the same pool-wide value: aggregate them with max, not sum.
 * Per-proxy labels cost one series per proxy and outcome; fine for pools of a few hundred.
 */
export class PoolMetrics {
  readonly registry: Registry;
  readonly #leaseWait: Histogram<'lane' | 'result'>;
  readonly #exhausted: Counter<'lane' | 'reason'>;
  readonly #outcomes: Counter<'outcome' | 'proxy'>;
  readonly #rateLimited: Counter<'proxy'>;
  readonly #bytes: Counter<'proxy'>;
  readonly #stale: Counter;
  readonly #maxAgeMs: number;
  #source: PoolCountsSource | undefined;
  #snapshot: { at: number; counts: Promise<PoolCounts | undefined> } | undefined;

  constructor(opts: PoolMetricsOptions) {
    const p = opts.prefix ?? 'switchyard_pool_';
    const registers = [opts.registry];
    this.registry = opts.registry;
    this.#maxAgeMs = opts.countsMaxAgeMs ?? 1000;
    this.#registerGauges(p, registers);
    this.#leaseWait = new Histogram({
      name: `${p}lease_wait_seconds`,
      help: 'Time a lease call took, by lane and result (leased or the exhaustion reason)',
      labelNames: ['lane', 'result'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.#exhausted = new Counter({
      name: `${p}exhausted_total`,
      help: 'Lease calls answered exhausted, by lane and reason (reserve, capacity, cooling)',
      labelNames: ['lane', 'reason'],
      registers,
    });
    this.#outcomes = new Counter({
      name: `${p}outcomes_total`,
      help: 'Released leases by outcome class and proxy',
      labelNames: ['outcome', 'proxy'],
      registers,
    });
    this.#rateLimited = new Counter({
      name: `${p}rate_limited_total`,
      help: 'Rate-limit answers seen through each proxy (egress IP)',
      labelNames: ['proxy'],
      registers,
    });
    this.#bytes = new Counter({
      name: `${p}bytes_total`,
      help: 'Bytes sent and received through each proxy',
      labelNames: ['proxy'],
      registers,
    });
    this.#stale = new Counter({
      name: `${p}stale_releases_total`,
      help: 'Releases rejected because the lease had expired or was fenced off',
      registers,
    });
  }

  /** The gauges, read from Redis at scrape time (one read serves them all: #counts). */
  #registerGauges(p: string, registers: Registry[]): void {
    const snapshot = () => this.#counts();
    const read = (pick: (c: PoolCounts) => number) =>
      async function (this: Gauge) {
        const c = await snapshot();
        if (c) this.set(pick(c));
      };
    new Gauge({
      name: `${p}leases_in_flight`,
      help: 'Leases held pool-wide',
      registers,
      collect: read((c) => c.inFlight),
    });
    new Gauge({
      name: `${p}capacity`,
      help: 'Sum of maxConcurrency over proxies in service',
      registers,
      collect: read((c) => c.capacity),
    });
    new Gauge({
      name: `${p}proxies`,
      help: 'Proxies by state (available, cooling for some host, quarantined, draining)',
      labelNames: ['state'],
      registers,
      collect: async function (this: Gauge<'state'>) {
        const c = await snapshot();
        if (c) for (const s of STATES) this.set({ state: s }, c.proxies[s]);
      },
    });
    new Gauge({
      name: `${p}banned_proxies`,
      help: 'Proxies banned for at least one host',
      registers,
      collect: read((c) => c.proxiesWithBans),
    });
    new Gauge({
      name: `${p}banned_pairs`,
      help: '(proxy, host) pairs currently banned',
      registers,
      collect: read((c) => c.bannedPairs),
    });
  }

  /** Called by the pool it is given to; the gauges read their values through it. */
  attach(source: PoolCountsSource): void {
    this.#source = source;
  }

  leaseObserved(lane: Lane, result: 'leased' | ExhaustedReason, seconds: number): void {
    this.#leaseWait.observe({ lane, result }, seconds);
    if (result !== 'leased') this.#exhausted.inc({ lane, reason: result });
  }

  releaseObserved(proxyId: string, outcome: Outcome, bytes: number, stale: boolean): void {
    if (stale) {
      this.#stale.inc();
      return;
    }
    this.#outcomes.inc({ outcome, proxy: proxyId });
    if (outcome === 'rate_limited') this.#rateLimited.inc({ proxy: proxyId });
    if (bytes > 0) this.#bytes.inc({ proxy: proxyId }, bytes);
  }

  /** One Redis read serves every gauge of a scrape; a failed read leaves the last values. */
  #counts(): Promise<PoolCounts | undefined> {
    const source = this.#source;
    if (!source) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.#snapshot || now - this.#snapshot.at > this.#maxAgeMs) {
      this.#snapshot = { at: now, counts: source.counts().catch(() => undefined) };
    }
    return this.#snapshot.counts;
  }
}
