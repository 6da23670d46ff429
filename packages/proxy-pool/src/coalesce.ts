/**
 * Collects the calls a process makes in the same tick and sends them together: `submit` queues an
 * item and the queue is flushed in a microtask, after the code that is running (and the promise
 * continuations already due) has had its turn, in calls of at most `max` items. `send` answers
 * one result per item, in order; its failure rejects every caller of that call. A lone item is
 * a call of one.
 */
export class Coalescer<T, R> {
  readonly #max: number;
  readonly #send: (items: T[]) => Promise<R[]>;
  #queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #scheduled = false;

  constructor(max: number, send: (items: T[]) => Promise<R[]>) {
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError('max must be a positive integer');
    this.#max = max;
    this.#send = send;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    // calls of equal size: 65 items go as 33 + 32, not 64 + 1
    const calls = Math.ceil(queue.length / this.#max);
    const size = Math.ceil(queue.length / calls);
    for (let i = 0; i < queue.length; i += size) {
      const batch = queue.slice(i, i + size);
      let sent: Promise<R[]>;
      try {
        sent = this.#send(batch.map((b) => b.item));
      } catch (err) {
        sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      sent.then(
        (results) => {
          if (results.length !== batch.length) {
            const err = new Error(`coalesced call answered ${results.length} of ${batch.length} items`);
            for (const b of batch) b.reject(err);
            return;
          }
          batch.forEach((b, j) => b.resolve(results[j]!));
        },
        (err: unknown) => {
          for (const b of batch) b.reject(err);
        },
      );
    }
  }
}
