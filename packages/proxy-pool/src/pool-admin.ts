import type { PoolKeys } from './keys.ts';
import { ProbeTarget } from './lease.ts';
import type { QuarantineOptions } from './options.ts';
import type { ScriptRunner } from './scripts.ts';
import type { ServerClock } from './server-clock.ts';
import type { PoolLogger, ProbeReport, ProxySpec } from './types.ts';
import { normalizeProxy } from './validate.ts';

export interface PoolAdminOptions {
  keys: PoolKeys;
  run: ScriptRunner;
  /** The key prefix scripts build their own keys from (client keyPrefix included). */
  argBase: string;
  clock: ServerClock;
  random: () => number;
  jitter: number;
  quarantine: QuarantineOptions;
  logger: PoolLogger | undefined;
}

/**
 * The operations that change which proxies serve: add, update, remove, drain, and the prober's
 * side of quarantine. ProxyPool exposes them; leases and releases are its own.
 */
export class PoolAdmin {
  readonly #o: PoolAdminOptions;

  constructor(opts: PoolAdminOptions) {
    this.#o = opts;
  }

  async upsert(spec: ProxySpec): Promise<'created' | 'updated'> {
    const { keys, run, argBase } = this.#o;
    const p = normalizeProxy(spec);
    const created = await run(
      'upsert',
      [keys.meta, keys.ids],
      [argBase, p.id, p.url, p.tags.join(' '), p.country, p.maxConcurrency, p.pricePerGbUsd],
    );
    return created === 1 ? 'created' : 'updated';
  }

  async remove(id: string): Promise<boolean> {
    const { keys: k, run, argBase } = this.#o;
    return (await run('remove', [k.meta, k.ids, k.quarantine, k.draining, k.leases], [argBase, id])) === 1;
  }

  /** Drains (`on`) or undrains a proxy; its in-flight count, or null when there is no such proxy. */
  async drain(id: string, on: boolean): Promise<number | null> {
    const { keys: k, run, argBase, clock } = this.#o;
    const n = (await run(
      'drain',
      [k.meta, k.quarantine, k.draining],
      [argBase, id, on ? '1' : '0', clock.arg()],
    )) as number;
    return n < 0 ? null : n;
  }

  async probeDue(limit: number): Promise<ProbeTarget[]> {
    const { keys, run, argBase, clock, quarantine } = this.#o;
    const flat = (await run(
      'probe-due',
      [keys.quarantine],
      [argBase, clock.arg(), limit, quarantine.probeClaimMs],
    )) as string[];
    const out: ProbeTarget[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push(new ProbeTarget(flat[i] ?? '', flat[i + 1] ?? ''));
    return out;
  }

  async reportProbe(id: string, ok: boolean): Promise<ProbeReport> {
    const { keys, run, argBase, clock, random, jitter, quarantine, logger } = this.#o;
    const reply = (await run(
      'report-probe',
      [keys.meta, keys.quarantine],
      [argBase, id, ok ? '1' : '0', clock.arg(), random(), jitter, quarantine.baseMs, quarantine.maxMs],
    )) as [string, number?];
    if (reply[0] === 'extended') {
      logger?.warn({ proxyId: id, until: reply[1] }, 'proxy probe failed; quarantine extended');
      return { status: 'extended', until: reply[1] ?? 0 };
    }
    if (reply[0] === 'readmitted') logger?.info({ proxyId: id }, 'proxy re-admitted after probe');
    return { status: reply[0] as 'readmitted' | 'noop' | 'unknown' };
  }
}
