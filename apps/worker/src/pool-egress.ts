import type { ProxyDispatchers, ProxyPool } from '@switchyard/proxy-pool';
import type { Egress, EgressExhausted, EgressGrant, EgressRequest } from './egress.ts';

export interface PoolEgressOptions {
  pool: ProxyPool;
  dispatchers: ProxyDispatchers;
  /** A lease must outlive the attempt it covers: the attempt timeout plus a margin. */
  leaseTtlMs: (req: EgressRequest) => number;
}

const PRICE_REFRESH_MS = 10_000;

/**
 * Egress through a leased pool proxy: a lease per attempt (constraints and sticky session from the
 * job), the proxy's reused undici ProxyAgent, and a release that reports the attempt's outcome so
 * the pool can cool down, ban or quarantine.
 */
export class PoolEgress implements Egress {
  private readonly opts: PoolEgressOptions;
  private prices = new Map<string, number>();
  private pricesAt = 0;

  constructor(opts: PoolEgressOptions) {
    this.opts = opts;
  }

  /** USD per GB equals nano-USD per byte. */
  private async nanosPerByte(proxyId: string): Promise<number> {
    if (!this.prices.has(proxyId) || Date.now() - this.pricesAt > PRICE_REFRESH_MS) {
      const list = await this.opts.pool.list();
      this.prices = new Map(list.map((p) => [p.id, p.pricePerGbUsd]));
      this.pricesAt = Date.now();
    }
    return this.prices.get(proxyId) ?? 0;
  }

  async acquire(req: EgressRequest): Promise<EgressGrant | EgressExhausted> {
    const constraints = req.spec.type === 'scrape' ? req.spec.proxy : undefined;
    const lease = await this.opts.pool.lease({
      lane: req.lane,
      host: req.host,
      tags: constraints?.tags,
      country: constraints?.country?.toUpperCase(),
      session: constraints?.session,
      ttlMs: this.opts.leaseTtlMs(req),
    });
    if (lease.exhausted) return { exhausted: true, retryAfterMs: lease.retryAfterMs, reason: lease.reason };
    const pool = this.opts.pool;
    return {
      dispatcher: this.opts.dispatchers.get(lease),
      viaProxy: true,
      proxyId: lease.proxyId,
      nanosPerByte: await this.nanosPerByte(lease.proxyId),
      async release(report) {
        await pool.release(lease, report);
      },
    };
  }

  async close(): Promise<void> {
    await this.opts.dispatchers.close();
  }
}
