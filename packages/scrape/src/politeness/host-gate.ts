import type { Cluster, Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { defineScripts, type ScriptRunner } from '../scripts.ts';
import { politenessKeys, type PolitenessKeys } from './keys.ts';

export interface HostGateOptions {
  redis: Redis | Cluster;
  /** The deployment's key prefix: one gate per host for the whole fleet. */
  prefix: string;
  /** Requests in flight to one host at once. */
  maxConcurrency: number;
  /** A lease outlives the request it covers; a crashed worker's slot is free again after it. */
  leaseTtlMs: number;
  /** Idle keys expire after this; an unclaimed ticket is dropped this long after its time. */
  idleTtlMs?: number;
}

/**
 * A request slot held at a host: report the send with `started` right before the request leaves,
 * and give the slot back with `release` when the request ends.
 */
export interface HostLease {
  host: string;
  id: string;
  /** When the request was granted, then (once `started` reported it) sent (Redis time, ms). */
  startedAt: number;
}

/** Why a job waits for its host. */
export type HostWaitReason = 'paused' | 'concurrency' | 'interval';

export type HostClaim =
  | { granted: true; lease: HostLease }
  /** The job holds a ticket `waitMs` from now (or, `beforeDeadline: false`, none fits). */
  | { granted: false; waitMs: number; reason: HostWaitReason; beforeDeadline: boolean };

export interface ClaimOptions {
  /** Least time between two starts to this host (the configured interval, or a Crawl-delay). */
  intervalMs: number;
  /** The job's deadline (epoch ms): no ticket is handed out at or after it. */
  deadline?: number;
  /**
   * The job was just served by the host (its robots.txt): it asks as if its ticket were due, so it
   * goes at the next free slot rather than behind every ticket handed out meanwhile.
   */
  resume?: boolean;
}

const REASONS: ReadonlySet<string> = new Set(['paused', 'concurrency', 'interval']);

/**
 * Per-host politeness across every worker (lua/host-claim-3.lua, host-start-1.lua,
 * host-release-2.lua): at most `maxConcurrency` requests in flight to a host, starts at least an
 * interval apart, and a host paused for everyone after it sent a Retry-After. A job that cannot
 * start gets a ticket, its own start time, so waiting jobs wake one at a time and in order instead
 * of polling. Starts are two-phase: `claim` reserves the next start, `started` reports the send,
 * and the interval runs from that report, so the site sees it whatever happened in between.
 */
export class HostGate {
  private readonly opts: HostGateOptions;
  private readonly keys: PolitenessKeys;
  private readonly run: ScriptRunner;

  constructor(opts: HostGateOptions) {
    this.opts = opts;
    this.keys = politenessKeys(opts.prefix);
    this.run = defineScripts(opts.redis);
  }

  private get idleTtlMs(): number {
    return this.opts.idleTtlMs ?? 600_000;
  }

  /** Starts a request to `host` for job `jobId` now, or hands the job a ticket to wait for. */
  async claim(host: string, jobId: string, opts: ClaimOptions): Promise<HostClaim> {
    const k = this.keys;
    const id = randomUUID();
    const args = [
      jobId,
      id,
      Math.max(0, Math.round(opts.intervalMs)),
      this.opts.maxConcurrency,
      this.opts.leaseTtlMs,
      opts.deadline ?? 0,
      this.idleTtlMs,
      opts.resume ? 1 : 0,
    ];
    const keys = [k.hostState(host), k.hostLeases(host), k.hostTickets(host)];
    const [code, value, reason] = (await this.run('host-claim', keys, args)) as [number, number, string?];
    if (code === 1) return { granted: true, lease: { host, id, startedAt: Number(value) } };
    return {
      granted: false,
      waitMs: Math.max(0, Number(value)),
      reason: REASONS.has(reason ?? '') ? (reason as HostWaitReason) : 'interval',
      beforeDeadline: code === 0,
    };
  }

  /**
   * Reports that the request of `lease` is being sent now: the host's next start is an interval
   * after this (not after the grant). Call it right before the request leaves, without waiting
   * for it (the start is when Redis runs it); until then (or the lease expires) no other start to
   * the host is granted.
   */
  async started(lease: HostLease): Promise<void> {
    const keys = [this.keys.hostState(lease.host)];
    lease.startedAt = Number(await this.run('host-start', keys, [lease.id, this.idleTtlMs]));
  }

  /**
   * Gives a lease back. `pauseMs` (from a 429 or 503 Retry-After) pauses every start to the host
   * for that long, for the whole fleet. `fromEnd`: the next start is an interval after now (the
   * same job makes the next request). False when the lease had already expired.
   */
  async release(lease: HostLease, opts: { pauseMs?: number; fromEnd?: boolean } = {}): Promise<boolean> {
    const k = this.keys;
    const pauseMs = Math.max(0, Math.round(opts.pauseMs ?? 0));
    const keys = [k.hostState(lease.host), k.hostLeases(lease.host)];
    const args = [lease.id, lease.startedAt, pauseMs, this.idleTtlMs, opts.fromEnd ? 1 : 0];
    return Number(await this.run('host-release', keys, args)) === 1;
  }
}
