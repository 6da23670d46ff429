import type { Config } from '@switchyard/config';
import type { PacingOptions, ProxyDispatchers, ProxyPool } from '@switchyard/proxy-pool';
import type { Egress, EgressExhausted, EgressGrant, EgressRequest } from './egress.ts';

export interface PoolEgressOptions {
  pool: ProxyPool;
  dispatchers: ProxyDispatchers;
  /** A lease must outlive the attempt it covers: the attempt timeout plus a margin. */
  leaseTtlMs: (req: EgressRequest) => number;
}

/** The pool's pacing from `pool.pacing` (`enabled: false` is a start rate of 0: pacing off). */
export function poolPacing(config: Config['pool']['pacing']): PacingOptions {
  const { enabled, ...rates } = config;
  return { ...rates, startRps: enabled ? rates.startRps : 0 };
}

/**
 * Egress through a leased pool proxy: a lease per attempt (constraints and sticky session from the
 * job), the proxy's reused undici ProxyAgent, and a release that reports the attempt's outcome so
 * the pool can cool down, ban or quarantine. The lease carries the proxy's price, so the attempt
 * path makes no other pool call.
 */
export class PoolEgress implements Egress {
  private readonly opts: PoolEgressOptions;

  constructor(opts: PoolEgressOptions) {
    this.opts = opts;
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
      // USD per GB equals nano-USD per byte
      nanosPerByte: lease.pricePerGbUsd,
      async release(report) {
        await pool.release(lease, report);
      },
    };
  }

  async close(): Promise<void> {
    await this.opts.dispatchers.close();
  }
}
