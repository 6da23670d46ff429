import type { ScriptArg } from './scripts.ts';

/** How often a process sends its release counts to Redis, unless told otherwise. */
export const STATS_FLUSH_MS = 1000;

interface ProxyCounts {
  /** The earliest epoch among the leases counted: count-1.lua drops the counts when the proxy was
   * re-added since (they belong to the proxy that was removed). */
  epoch: number;
  fields: Map<string, number>;
}

/**
 * A process's release counts per proxy (leases ended, bytes, outcomes other than ok), sent to the
 * proxies' hashes by count-1.lua every `everyMs` (STATS_FLUSH_MS by default) and on flush(): the
 * admin table's numbers without a write to the proxy's hash on every release. What a process had
 * not sent when it died (at most `everyMs` of releases) is missing from those numbers; leases and
 * capacity are not affected.
 */
export class ReleaseStats {
  readonly #send: (args: ScriptArg[]) => Promise<unknown>;
  readonly #everyMs: number;
  /** proxy id -> its counts: the earliest lease epoch among them, and field -> amount */
  #counts = new Map<string, ProxyCounts>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(send: (args: ScriptArg[]) => Promise<unknown>, everyMs = STATS_FLUSH_MS) {
    this.#send = send;
    this.#everyMs = everyMs;
  }

  /** Counts one release that ended on its proxy (not stale, the proxy not removed since). */
  add(proxyId: string, epoch: number, outcome: string, bytes: number): void {
    this.#merge(proxyId, epoch, 'released', 1);
    if (bytes > 0) this.#merge(proxyId, epoch, 'bytes', bytes);
    if (outcome !== 'ok') this.#merge(proxyId, epoch, `o:${outcome}`, 1);
  }

  /** Sends what is counted so far; resolves when Redis has it (and any earlier send). On failure
   * the counts are kept for the next flush. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const counts = this.#counts;
    this.#counts = new Map();
    const args: ScriptArg[] = [];
    for (const [id, c] of counts) for (const [field, n] of c.fields) args.push(id, c.epoch, field, n);
    const previous = this.#inFlight;
    const sent = (async () => {
      await previous.catch(() => undefined);
      if (args.length === 0) return;
      try {
        await this.#send(args);
      } catch (err) {
        for (const [id, c] of counts) for (const [field, n] of c.fields) this.#merge(id, c.epoch, field, n);
        throw err;
      }
    })();
    this.#inFlight = sent;
    return sent;
  }

  #merge(id: string, epoch: number, field: string, n: number): void {
    let c = this.#counts.get(id);
    if (!c) {
      c = { epoch, fields: new Map() };
      this.#counts.set(id, c);
    }
    c.epoch = Math.min(c.epoch, epoch);
    c.fields.set(field, (c.fields.get(field) ?? 0) + n);
    this.#timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.#everyMs).unref();
  }
}
