import type { Cluster, Redis } from 'ioredis';
import { politenessKeys, type PolitenessKeys } from '../politeness/keys.ts';
import { parseRobotsEntry, RobotsView, type RobotsEntry } from './robots-entry.ts';

export interface RobotsCacheOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** How long a fetched robots.txt (or a 4xx) is trusted. */
  ttlSeconds: number;
  /** How long this process keeps an entry before asking Redis again; default 30 s. */
  localTtlMs?: number;
  /** Entries kept in this process; default 10,000 (the oldest go first). */
  maxLocal?: number;
}

/**
 * Robots.txt verdicts shared by the fleet: one Redis string per origin with its TTL, and a short
 * per-process copy with the rules parsed, so a busy origin is neither refetched nor reparsed.
 */
export class RobotsCache {
  private readonly opts: RobotsCacheOptions;
  private readonly keys: PolitenessKeys;
  private readonly local = new Map<string, { view: RobotsView; until: number }>();

  constructor(opts: RobotsCacheOptions) {
    this.opts = opts;
    this.keys = politenessKeys(opts.prefix);
  }

  /** The origin's entry, or undefined when the fleet has none (fetch it). */
  async get(origin: string, now = Date.now()): Promise<RobotsView | undefined> {
    const hit = this.local.get(origin);
    if (hit && hit.until > now) return hit.view;
    this.local.delete(origin);
    const entry = parseRobotsEntry(await this.opts.redis.get(this.keys.robots(origin)));
    if (!entry || (entry.kind === 'unreachable' && entry.until <= now)) return undefined;
    return this.remember(origin, entry, now);
  }

  /** Stores what a fetch found, for the fleet: rules and 4xx for `ttlSeconds`, unreachable until its time. */
  async put(origin: string, entry: RobotsEntry, now = Date.now()): Promise<RobotsView> {
    const ttlMs = entry.kind === 'unreachable' ? Math.max(1, entry.until - now) : this.opts.ttlSeconds * 1000;
    await this.opts.redis.set(this.keys.robots(origin), JSON.stringify(entry), 'PX', ttlMs);
    return this.remember(origin, entry, now);
  }

  private remember(origin: string, entry: RobotsEntry, now: number): RobotsView {
    const view = new RobotsView(origin, entry);
    let until = now + (this.opts.localTtlMs ?? 30_000);
    if (entry.kind === 'unreachable') until = Math.min(until, entry.until);
    this.local.set(origin, { view, until });
    if (this.local.size > (this.opts.maxLocal ?? 10_000)) {
      const oldest = this.local.keys().next();
      if (!oldest.done) this.local.delete(oldest.value);
    }
    return view;
  }
}
