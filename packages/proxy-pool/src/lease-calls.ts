import { Coalescer } from './coalesce.ts';
import type { PoolKeys } from './keys.ts';
import type { ScriptArg } from './scripts.ts';
import type { ServerClock } from './server-clock.ts';
import type { NormalizedLeaseRequest } from './validate.ts';

/** At most this many leases (or plain releases) issued in the same tick go to Redis as one script
 * call (lease-many, release-many); more go as several calls of equal size, which Redis pipelines. */
const COALESCE_MAX = 32;

/** Expired leases a coalesced lease call reclaims first when any of its requests asks. */
export const RECLAIM_BATCH = 32;

/** What lease-7.lua (and each entry of lease-many-6.lua) answers. */
export type LeaseReply = [number, string, string | number, number?, number?];

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

/** One plain (no-penalty) release on its way to Redis. */
export interface ReleaseCall {
  /** The lease's member in the leases set ("leaseId|epoch|proxyId") */
  member: string;
  proxyId: string;
  outcome: string;
}

export interface LeaseCallsOptions {
  keys: PoolKeys;
  run: (name: string, keys: string[], args: ScriptArg[]) => Promise<unknown>;
  /** The key prefix scripts build their own keys from (client keyPrefix included). */
  argBase: string;
  clock: ServerClock;
  reserve: number;
  sessionTtlMs: number;
  exhaustedRetryMs: number;
}

/**
 * How leases and plain releases reach Redis: the ones a process issues in the same tick share one
 * script call (lease-many-6.lua, release-many-1.lua); a lone one uses lease-7.lua /
 * release-plain-1.lua. Each caller gets its own answer. ProxyPool keeps the pool's rules, metrics
 * and logging; this keeps the wire.
 */
export class LeaseCalls {
  readonly #o: LeaseCallsOptions;
  readonly #leases = new Coalescer<LeaseCall, LeaseReply>(COALESCE_MAX, (calls) => this.#sendLeases(calls));
  readonly #releases = new Coalescer<ReleaseCall, number>(COALESCE_MAX, (calls) => this.#sendReleases(calls));

  constructor(opts: LeaseCallsOptions) {
    this.#o = opts;
  }

  lease(call: LeaseCall): Promise<LeaseReply> {
    return this.#leases.submit(call);
  }

  /** -1 when the lease was stale, 0 when its proxy was removed (or re-added) since, else 1. */
  releasePlain(call: ReleaseCall): Promise<number> {
    return this.#releases.submit(call);
  }

  async #sendLeases(calls: LeaseCall[]): Promise<LeaseReply[]> {
    const { keys: k, run, argBase, clock, reserve, sessionTtlMs, exhaustedRetryMs } = this.#o;
    if (calls.length === 1) {
      const c = calls[0]!;
      const reply = await run(
        'lease',
        [k.leases, k.timers, k.meta, k.sessions, k.hosts, k.excluded(c.r.host), k.quarantine],
        [
          argBase,
          clock.arg(),
          c.ttlMs,
          c.leaseId,
          c.lane,
          reserve,
          c.r.session,
          sessionTtlMs,
          c.seed,
          exhaustedRetryMs,
          c.reclaim,
          c.r.country,
          ...c.r.tags,
        ],
      );
      return [reply as LeaseReply];
    }
    const args: ScriptArg[] = [
      argBase,
      clock.arg(),
      reserve,
      sessionTtlMs,
      exhaustedRetryMs,
      calls.some((c) => c.reclaim > 0) ? RECLAIM_BATCH : 0,
    ];
    // consecutive requests that differ only in their lease id go as one run (lease-many-6.lua)
    for (let i = 0; i < calls.length;) {
      const c = calls[i]!;
      const tags = c.r.tags.join(' ');
      let end = i + 1;
      while (end < calls.length && sameShape(calls[end]!, c)) end++;
      args.push(end - i, c.lane, c.ttlMs, c.r.session, c.seed, c.r.host, c.r.country, tags);
      for (let k = i; k < end; k++) args.push(calls[k]!.leaseId);
      i = end;
    }
    const flat = (await run(
      'lease-many',
      [k.leases, k.timers, k.meta, k.sessions, k.hosts, k.quarantine],
      args,
    )) as (string | number)[];
    // five values per request (lease-many-6.lua)
    return calls.map((_, i): LeaseReply => {
      const [status, a, b, epoch, expiresAt] = flat.slice(5 * i, 5 * i + 5) as [
        number,
        string,
        string | number,
        number,
        number,
      ];
      return status === 1 ? [1, a, b, epoch, expiresAt] : [0, a, b];
    });
  }

  async #sendReleases(calls: ReleaseCall[]): Promise<number[]> {
    const { keys, run, argBase, clock } = this.#o;
    if (calls.length === 1) {
      const c = calls[0]!;
      return [
        (await run('release-plain', [keys.leases], [argBase, clock.arg(), c.member, c.outcome])) as number,
      ];
    }
    const args: ScriptArg[] = [argBase, clock.arg()];
    for (const c of calls) args.push(c.member, c.proxyId, c.outcome);
    return (await run('release-many', [keys.leases], args)) as number[];
  }
}
