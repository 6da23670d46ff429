import { isStoreFull } from '@switchyard/jobs';
import type { AttemptEntry, Ledger } from '@switchyard/ledger';
import type { Logger } from '@switchyard/telemetry';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_DELAYS_MS = [250, 1_000, 5_000, 15_000, 30_000];

/**
 * Ledger writes the processor does not wait for: a job's first successful attempt, whose total is
 * its own cost. The write is issued on the connection BullMQ finishes the job on, before the
 * processor returns, so Redis applies it ahead of the job's completion (one connection's commands
 * run in order) and the job gives up no round trip for it. A write Redis refuses is tried again,
 * as the ledger's writes are idempotent by (job, attempt): while Redis is out of memory, until it
 * takes it; for any other error, a few times, then it is logged with its ids. `drain` lets a
 * stopping worker wait for them.
 */
export class LedgerAhead {
  readonly #ledger: Pick<Ledger, 'record'>;
  readonly #logger: Logger;
  readonly #retryDelaysMs: readonly number[];
  readonly #pending = new Set<Promise<void>>();

  constructor(opts: { ledger: Pick<Ledger, 'record'>; logger: Logger; retryDelaysMs?: readonly number[] }) {
    this.#ledger = opts.ledger;
    this.#logger = opts.logger;
    this.#retryDelaysMs = opts.retryDelaysMs ?? RETRY_DELAYS_MS;
  }

  /** Issues the write now (synchronously, so it precedes what the caller sends next). */
  send(entry: AttemptEntry): void {
    const first = this.#ledger.record(entry);
    const done = this.#settle(entry, first).finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** Writes sent and not yet acknowledged (or still being retried). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Waits for every pending write, at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#pending.size === 0) return;
    const all = Promise.all(this.#pending);
    await Promise.race([all, sleep(timeoutMs, undefined, { ref: false })]);
  }

  async #settle(entry: AttemptEntry, first: Promise<unknown>): Promise<void> {
    let last: unknown;
    let refusals = 0;
    for (let i = 0; ;) {
      try {
        await (i === 0 && refusals === 0 ? first : this.#ledger.record(entry));
        return;
      } catch (err) {
        last = err;
        // A full Redis refuses every write until memory frees: the entry waits for it, however long.
        const full = isStoreFull(err);
        if (full) refusals++;
        else i++;
        const delay = full ? this.#fullDelayMs(refusals) : this.#retryDelaysMs[i - 1];
        if (delay === undefined) break;
        if (!full || refusals === 1)
          this.#logger.warn(
            { jobId: entry.jobId, attempt: entry.attempt, err },
            'ledger write refused; retrying',
          );
        await sleep(delay);
      }
    }
    this.#logger.error(
      {
        jobId: entry.jobId,
        attempt: entry.attempt,
        tenantId: entry.tenantId,
        costNanos: entry.costNanos,
        err: last,
      },
      'ledger write lost after every retry',
    );
  }

  /** Backoff while Redis is full: the retry delays, then their last one, for as long as it lasts. */
  #fullDelayMs(refusals: number): number {
    const d = this.#retryDelaysMs;
    return d[Math.min(refusals, d.length) - 1] ?? 1_000;
  }
}
