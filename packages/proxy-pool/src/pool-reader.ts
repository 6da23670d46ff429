import type { Cluster, Redis } from 'ioredis';
import type { PoolKeys } from './keys.ts';
import { redactProxyUrl } from './redact.ts';
import { OUTCOMES } from './types.ts';
import type { HostExclusion, PoolCounts, ProxyHealth, ProxyState } from './types.ts';

type Client = Redis | Cluster;

async function execAll(pipe: ReturnType<Client['pipeline']>): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function pairs(flat: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] ?? '', Number(flat[i + 1])]);
  return out;
}

export interface Exclusions {
  /** proxyId -> hosts it cools for (pairs that are banned are listed under `banned` only). */
  cooling: Map<string, HostExclusion[]>;
  banned: Map<string, HostExclusion[]>;
}

/** Active (proxy, host) cooldowns and bans, read without blocking Redis: O(active pairs). */
export async function readExclusions(redis: Client, keys: PoolKeys, now: number): Promise<Exclusions> {
  const cooling = new Map<string, HostExclusion[]>();
  const banned = new Map<string, HostExclusion[]>();
  const hosts = await redis.zrangebyscore(keys.hosts, `(${now}`, '+inf');
  if (hosts.length === 0) return { cooling, banned };
  const pipe = redis.pipeline();
  for (const host of hosts) {
    pipe.zrangebyscore(keys.excluded(host), `(${now}`, '+inf', 'WITHSCORES');
    pipe.zrangebyscore(keys.banned(host), `(${now}`, '+inf', 'WITHSCORES');
  }
  const results = (await execAll(pipe)) as string[][];
  hosts.forEach((host, i) => {
    const bans = new Map(pairs(results[2 * i + 1] ?? []));
    for (const [id, until] of bans) push(banned, id, { host, until });
    for (const [id, until] of pairs(results[2 * i] ?? [])) {
      if (!bans.has(id)) push(cooling, id, { host, until });
    }
  });
  return { cooling, banned };
}

function push(map: Map<string, HostExclusion[]>, id: string, entry: HostExclusion): void {
  const list = map.get(id);
  if (list) list.push(entry);
  else map.set(id, [entry]);
}

function stateOf(h: Record<string, string>, cooling: HostExclusion[] | undefined): ProxyState {
  if (h.drain === '1') return 'draining';
  if (h.qu && h.qu !== '0') return 'quarantined';
  return cooling?.length ? 'cooling' : 'available';
}

/** The in-flight count packed into an availability score (see lua/includes/availability.lua). */
const SCORE_SLOT = 16384;

/** A proxy in service keeps its in-flight count in its availability score, one out of service in
 * its hash's `held`. */
function inFlightOf(h: Record<string, string>, score: string | null): number {
  const inService = h.drain === '0' && h.qu === '0';
  return inService && score !== null ? Number(score) % SCORE_SLOT : Number(h.held ?? 0);
}

/** Every proxy with its health, sorted by id; URLs redacted. */
export async function readPoolHealth(redis: Client, keys: PoolKeys, now: number): Promise<ProxyHealth[]> {
  const ids = (await redis.smembers(keys.ids)).sort();
  if (ids.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hgetall(keys.proxy(id));
  pipe.zmscore(keys.available, ...ids);
  const [results, ex] = await Promise.all([execAll(pipe), readExclusions(redis, keys, now)]);
  const hashes = results.slice(0, ids.length);
  const scores = results[ids.length] as (string | null)[];
  const out: ProxyHealth[] = [];
  ids.forEach((id, i) => {
    const h = hashes[i] as Record<string, string> | undefined;
    if (!h?.url) return;
    const cooling = ex.cooling.get(id) ?? [];
    const outcomes = Object.fromEntries(
      [...OUTCOMES, 'expired'].map((o) => [o, Number(h[`o:${o}`] ?? 0)]),
    ) as ProxyHealth['outcomes'];
    // `released` counts every ended lease; ok is not counted separately (one write less per release)
    const released = Number(h.released ?? 0);
    outcomes.ok = released - Object.values(outcomes).reduce((n, v) => n + v, 0);
    const qu = Number(h.qu ?? 0);
    out.push({
      id,
      url: redactProxyUrl(h.url),
      tags: h.tags ? h.tags.split(' ') : [],
      ...(h.country ? { country: h.country } : {}),
      maxConcurrency: Number(h.max),
      pricePerGbUsd: Number(h.price),
      state: stateOf(h, cooling),
      inFlight: inFlightOf(h, scores[i] ?? null),
      outcomes,
      bytes: Number(h.bytes ?? 0),
      consecutiveFaults: Number(h.faults ?? 0),
      ...(qu > 0 ? { quarantinedUntil: qu } : {}),
      cooling: cooling.sort((a, b) => a.until - b.until),
      banned: (ex.banned.get(id) ?? []).sort((a, b) => a.until - b.until),
    });
  });
  return out;
}

/** Pool-wide counts for gauges, without reading every proxy's hash. */
export async function readCounts(redis: Client, keys: PoolKeys, now: number): Promise<PoolCounts> {
  const pipe = redis.pipeline();
  pipe.scard(keys.ids);
  pipe.smembers(keys.draining);
  pipe.zrange(keys.quarantine, '0', '-1');
  pipe.zcard(keys.leases);
  pipe.hget(keys.meta, 'cap');
  const [[total, draining, quarantined, inFlight, cap], ex] = await Promise.all([
    execAll(pipe) as Promise<[number, string[], string[], number, string | null]>,
    readExclusions(redis, keys, now),
  ]);
  const outOfService = new Set([...draining, ...quarantined]);
  const excludedIds = [...new Set([...ex.cooling.keys(), ...ex.banned.keys()])];
  const present = new Set<string>();
  if (excludedIds.length > 0) {
    const flags = await redis.smismember(keys.ids, excludedIds);
    excludedIds.forEach((id, i) => flags[i] && present.add(id));
  }
  let cooling = 0;
  for (const id of ex.cooling.keys()) if (present.has(id) && !outOfService.has(id)) cooling++;
  let proxiesWithBans = 0;
  let bannedPairs = 0;
  for (const [id, list] of ex.banned) {
    if (!present.has(id)) continue;
    proxiesWithBans++;
    bannedPairs += list.length;
  }
  return {
    proxies: {
      available: total - draining.length - quarantined.length - cooling,
      cooling,
      quarantined: quarantined.length,
      draining: draining.length,
    },
    proxiesWithBans,
    bannedPairs,
    inFlight,
    capacity: Number(cap ?? 0),
  };
}
