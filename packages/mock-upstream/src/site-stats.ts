export interface SiteIpCounters {
  requests: number;
  /** Answered with a status below 400. */
  ok: number;
  /** Answered 429 by the per-IP rate limit. */
  rateLimited: number;
  /** Answered 403 because the IP is blocked. */
  blocked: number;
}

export interface SiteStats {
  requests: number;
  byIp: Record<string, SiteIpCounters>;
}

export type SiteOutcome = 'ok' | 'rate_limited' | 'blocked' | 'other';

/** Per-IP request counters of the mock site. */
export class SiteLedger {
  #requests = 0;
  #byIp = new Map<string, SiteIpCounters>();

  record(ip: string, outcome: SiteOutcome): void {
    let c = this.#byIp.get(ip);
    if (!c) {
      c = { requests: 0, ok: 0, rateLimited: 0, blocked: 0 };
      this.#byIp.set(ip, c);
    }
    this.#requests += 1;
    c.requests += 1;
    if (outcome === 'ok') c.ok += 1;
    if (outcome === 'rate_limited') c.rateLimited += 1;
    if (outcome === 'blocked') c.blocked += 1;
  }

  reset(): void {
    this.#requests = 0;
    this.#byIp.clear();
  }

  snapshot(): SiteStats {
    return {
      requests: this.#requests,
      byIp: Object.fromEntries([...this.#byIp].map(([k, v]) => [k, { ...v }])),
    };
  }
}
