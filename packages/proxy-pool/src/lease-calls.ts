import { Coalescer } from './coalesce.ts';
import type { PoolKeys } from './keys.ts';
import type { ResolvedPoolOptions } from './options.ts';
import type { ScriptArg, ScriptRunner } from './scripts.ts';
import type { ServerClock } from './server-clock.ts';
import type { ExhaustedReason } from './types.ts';
import type { NormalizedLeaseRequest } from './validate.ts';

/** At most this many leases (or releases) issued in the same tick go to Redis as one script call
 * (lease-many, release-many); more go as several calls of equal size, which Redis pipelines. */
const COALESCE_MAX = 32;

/** Expired leases a coalesced lease call reclaims first when any of its requests asks. */
export const RECLAIM_BATCH = 32;

/** What a lease request got: a proxy (with what the attempt needs of it), or why not. */
export type LeaseReply =
  | {
      leased: true;
      proxyId: string;
      proxyUrl: string;
      epoch: number;
      expiresAt: number;
      pricePerGbUsd: number;
    }
  | { leased: false; reason: ExhaustedReason; retryAfterMs: number };

/** One lease request on its way to Redis, normalised. */
export interface LeaseCall {
  r: NormalizedLeaseRequest;
  lane: 'i' | 'b';
  ttlMs: number;
  leaseId: string;
  seed: number;
  reclaim: number;
}

/** Whether two lease requests differ at most in their lease id and seed. */
function sameShape(a: LeaseCall, b: LeaseCall): boolean {
  return (
    a.lane === b.lane &&
    a.ttlMs === b.ttlMs &&
    a.r.session === b.r.session &&
    a.r.host === b.r.host &&
    a.r.country === b.r.country &&
    a.r.tags.length === b.r.tags.length &&
    a.r.tags.every((t, i) => t === b.r.tags[i])
  );
}

/** One request's six values in lease-many-6.lua's reply. */
function leaseReply(v: unknown[]): LeaseReply {
  if (v[0] !== 1) return { leased: false, reason: v[1] as ExhaustedReason, retryAfterMs: Number(v[2]) };
  return {
    leased: true,
    proxyId: String(v[1]),
    proxyUrl: String(v[2]),
    epoch: Number(v[3]),
    expiresAt: Number(v[4]),
    pricePerGbUsd: Number(v[5] ?? 0),
  };
}

/** One release on its way to Redis. */
export interface ReleaseCall {
  /** The lease's member in the leases set ("leaseId|epoch|proxyId") */
  member: string;
  outcome: string;
  host: string;
  /** Only for a penalising outcome: the target's Retry-After, and a random number in [0, 1). */
  retryAfterMs?: number;
  random?: number;
}

export interface LeaseCallsOptions {
  keys: PoolKeys;
  run: ScriptRunner;
  /** The key prefix scripts build their own keys from (client keyPrefix included). */
  argBase: string;
  clock: ServerClock;
  options: ResolvedPoolOptions;
}

/**
 * How leases and releases reach Redis: the leases a process issues in the same tick share one
 * call of lease-many-6.lua, its releases one of release-many-5.lua (a lone one goes alone, at
 * once). Each caller gets its own answer. ProxyPool keeps the pool's metrics and logging; this
 * keeps the wire.
 */
export class LeaseCalls {
  readonly #o: LeaseCallsOptions;
  /** ARGV[3..17] of release-many-5.lua: the penalties' and pacing's options. */
  readonly #penaltyArgs: number[];
  readonly #leases = new Coalescer<LeaseCall, LeaseReply>(COALESCE_MAX, (calls) => this.#sendLeases(calls));
  readonly #releases = new Coalescer<ReleaseCall, number>(COALESCE_MAX, (calls) => this.#sendReleases(calls));

  constructor(opts: LeaseCallsOptions) {
    this.#o = opts;
    const { jitter, cooldown, ban, quarantine, pacing } = opts.options;
    this.#penaltyArgs = [
      jitter,
      cooldown.baseMs,
      cooldown.maxMs,
      cooldown.resetAfterMs,
      ban.afterBlocks,
      ban.windowMs,
      ban.durationMs,
      quarantine.baseMs,
      quarantine.maxMs,
      pacing.startRps,
      pacing.minRps,
      pacing.maxRps,
      pacing.decrease,
      pacing.increaseRps,
      pacing.idleMs,
    ];
  }

  lease(call: LeaseCall): Promise<LeaseReply> {
    return this.#leases.submit(call);
  }

  /** -1 when the lease was stale, -2 when its proxy is gone, else the penalty applied (ms, 0 for none). */
  release(call: ReleaseCall): Promise<number> {
    return this.#releases.submit(call);
  }

  async #sendLeases(calls: LeaseCall[]): Promise<LeaseReply[]> {
    const { keys: k, run, argBase, clock } = this.#o;
    const { interactiveReserve: reserve, sessionTtlMs, exhaustedRetryMs } = this.#o.options;
    const reclaim = calls.some((c) => c.reclaim > 0) ? RECLAIM_BATCH : 0;
    const args: ScriptArg[] = [argBase, clock.arg(), reserve, sessionTtlMs, exhaustedRetryMs, reclaim];
    // consecutive requests that differ only in their lease id go as one run (lease-many-6.lua)
    for (let i = 0; i < calls.length;) {
      const c = calls[i]!;
      let end = i + 1;
      while (end < calls.length && sameShape(calls[end]!, c)) end++;
      args.push(end - i, c.lane, c.ttlMs, c.r.session, c.seed, c.r.host, c.r.country, c.r.tags.join(' '));
      for (let k = i; k < end; k++) args.push(calls[k]!.leaseId);
      i = end;
    }
    const keys = [k.leases, k.timers, k.meta, k.sessions, k.hosts, k.quarantine];
    const flat = (await run('lease-many', keys, args)) as unknown[];
    // six values per request (lease-many-6.lua)
    return calls.map((_, i) => leaseReply(flat.slice(6 * i, 6 * i + 6)));
  }

  async #sendReleases(calls: ReleaseCall[]): Promise<number[]> {
    const { keys: k, run, argBase, clock } = this.#o;
    const args: ScriptArg[] = [argBase, clock.arg(), ...this.#penaltyArgs];
    for (const c of calls) {
      const retryAfter = c.retryAfterMs === undefined ? '' : Math.ceil(c.retryAfterMs);
      args.push(c.member, c.outcome, c.host, retryAfter, c.random ?? '');
    }
    return (await run('release-many', [k.leases, k.timers, k.meta, k.quarantine, k.hosts], args)) as number[];
  }
}
