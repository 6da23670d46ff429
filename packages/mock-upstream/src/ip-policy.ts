import { normaliseIp } from './source-ip.ts';

/** A per-source-IP request budget; a client over it is answered 429 with `Retry-After`. */
export interface RateLimitConfig {
  /** Requests admitted per IP in any 1-second sliding window. */
  perIpPerSecond: number;
  /** The `Retry-After` value (seconds) sent with the 429; default 1. */
  retryAfterSeconds?: number;
}

/** What the policy decides for one request from one IP. */
export type IpVerdict =
  { kind: 'allow' } | { kind: 'blocked' } | { kind: 'rate_limited'; retryAfterSeconds: number };

const WINDOW_MS = 1000;

/**
 * Blocks and per-IP rate limits, shared by the mock LLM and the mock site. The limit is a sliding
 * 1-second log of admitted requests, so N requests in a burst see exactly `perIpPerSecond` admitted
 * no matter where the burst falls on the wall clock.
 */
export class IpPolicy {
  #blocked = new Set<string>();
  #limit: Required<RateLimitConfig> | undefined;
  #admitted = new Map<string, number[]>();

  setRateLimit(config: RateLimitConfig | null | undefined): void {
    this.#admitted.clear();
    if (!config) {
      this.#limit = undefined;
      return;
    }
    if (!Number.isInteger(config.perIpPerSecond) || config.perIpPerSecond < 0) {
      throw new RangeError('perIpPerSecond must be a non-negative integer');
    }
    const retryAfterSeconds = config.retryAfterSeconds ?? 1;
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
      throw new RangeError('retryAfterSeconds must be a non-negative integer');
    }
    this.#limit = { perIpPerSecond: config.perIpPerSecond, retryAfterSeconds };
  }

  blockIp(ip: string): void {
    this.#blocked.add(normaliseIp(ip));
  }

  unblockIp(ip: string): void {
    this.#blocked.delete(normaliseIp(ip));
  }

  isBlocked(ip: string): boolean {
    return this.#blocked.has(normaliseIp(ip));
  }

  /** Decides one request and, when it is allowed, counts it against the IP's window. */
  check(ip: string, now = Date.now()): IpVerdict {
    if (this.#blocked.has(ip)) return { kind: 'blocked' };
    const limit = this.#limit;
    if (!limit) return { kind: 'allow' };
    const recent = (this.#admitted.get(ip) ?? []).filter((t) => now - t < WINDOW_MS);
    if (recent.length >= limit.perIpPerSecond) {
      this.#admitted.set(ip, recent);
      return { kind: 'rate_limited', retryAfterSeconds: limit.retryAfterSeconds };
    }
    recent.push(now);
    this.#admitted.set(ip, recent);
    return { kind: 'allow' };
  }
}
