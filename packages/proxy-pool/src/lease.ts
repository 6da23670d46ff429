import type { Lane, Lease } from './types.ts';

/**
 * A granted lease. The proxy URL (with its credentials) lives in a private field behind a getter,
 * so JSON.stringify, pino and util.inspect of a lease never print it.
 */
export class GrantedLease implements Lease {
  readonly leaseId: string;
  readonly proxyId: string;
  readonly epoch: number;
  readonly expiresAt: number;
  readonly host: string;
  readonly lane: Lane;
  readonly pricePerGbUsd: number;
  readonly #proxyUrl: string;

  constructor(fields: Omit<Lease, 'proxyUrl' | 'exhausted'>, proxyUrl: string) {
    this.leaseId = fields.leaseId;
    this.proxyId = fields.proxyId;
    this.epoch = fields.epoch;
    this.expiresAt = fields.expiresAt;
    this.host = fields.host;
    this.lane = fields.lane;
    this.pricePerGbUsd = fields.pricePerGbUsd;
    this.#proxyUrl = proxyUrl;
  }

  get proxyUrl(): string {
    return this.#proxyUrl;
  }

  /** A copy with a new expiry (after a renew). */
  withExpiry(expiresAt: number): GrantedLease {
    return new GrantedLease({ ...this, expiresAt }, this.#proxyUrl);
  }
}

/** A quarantined proxy due for a probe; like a lease, its URL stays out of logs. */
export class ProbeTarget {
  readonly id: string;
  readonly #proxyUrl: string;

  constructor(id: string, proxyUrl: string) {
    this.id = id;
    this.#proxyUrl = proxyUrl;
  }

  get proxyUrl(): string {
    return this.#proxyUrl;
  }
}
