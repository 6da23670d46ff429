const asError = (reason: unknown) => (reason instanceof Error ? reason : new Error(String(reason)));

/**
 * A counting semaphore: at most `size` holders at once, waiters served in order. Lets the
 * extractor start a page's clock only when a thread is free for it, so time spent waiting behind
 * other pages never counts against a page's timeout.
 */
export class Slots {
  #free: number;
  readonly #waiters: { grant: () => void; fail: (err: Error) => void }[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(asError(signal.reason));
    const release = this.#releaser();
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        fail: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.fail(asError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Rejects every waiter with `err` (holders keep their slots until they release them). */
  failWaiters(err: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.fail(err);
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next.grant();
      else this.#free++;
    };
  }
}
