import type { ScrapeRequest, ScrapeResult } from '@switchyard/contracts';
import { scrapeReuseId } from '@switchyard/scrape';
import type { Cluster, Redis } from 'ioredis';

export interface ScrapeCacheKeys {
  /** String: one tenant's stored result of one scrape identity (`scrapeReuseId`), JSON, with a TTL. */
  entry(tenantId: string, reuseId: string): string;
}

export function scrapeCacheKeys(prefix: string): ScrapeCacheKeys {
  return { entry: (tenantId, reuseId) => `${prefix}:scrape-cache:${tenantId}:${reuseId}` };
}

/** A stored result and when its page was fetched. */
interface Stored {
  at: number;
  result: ScrapeResult;
}

/**
 * Results of scrapes that asked for reuse (`max_age_s`), per tenant, so a later scrape of the same
 * URL, method, headers and formats within its `max_age_s` is answered without the site. Only
 * requests that ask for reuse are stored: a tenant that never asks pays no memory for it. Each
 * entry lives `maxTtlSeconds`, whatever age a request accepts.
 */
export class ScrapeCache {
  private readonly redis: Redis | Cluster;
  private readonly keys: ScrapeCacheKeys;
  private readonly maxTtlSeconds: number;

  constructor(opts: { redis: Redis | Cluster; prefix: string; maxTtlSeconds: number }) {
    this.redis = opts.redis;
    this.keys = scrapeCacheKeys(opts.prefix);
    this.maxTtlSeconds = opts.maxTtlSeconds;
  }

  /** The stored result for this request, if it was fetched at most `max_age_s` before `now`. */
  async get(tenantId: string, req: ScrapeRequest, now = Date.now()): Promise<ScrapeResult | undefined> {
    if (!req.max_age_s) return undefined;
    const raw = await this.redis.get(this.keys.entry(tenantId, scrapeReuseId(req)));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as Stored;
    return now - stored.at <= req.max_age_s * 1000 ? stored.result : undefined;
  }

  /**
   * Stores a full result of a request that asked for reuse. Results without their content (a
   * 304, or `unchanged` by `previous_hash`) and non-2xx pages are not stored.
   */
  async put(tenantId: string, req: ScrapeRequest, result: ScrapeResult, at = Date.now()): Promise<void> {
    if (!req.max_age_s || result.unchanged || result.status < 200 || result.status > 299) return;
    const stored: Stored = { at, result };
    await this.redis.set(
      this.keys.entry(tenantId, scrapeReuseId(req)),
      JSON.stringify(stored),
      'EX',
      this.maxTtlSeconds,
    );
  }
}
