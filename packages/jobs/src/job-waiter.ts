import { QueueEvents } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { jobKeys } from './keys.ts';
import { isJobId, laneOfJobId, shardOfJobId } from './job-ids.ts';

/** What a waiter learns: the job finished (with its return value when it succeeded), or not. */
export interface WaitResult {
  finished: boolean;
  /** BullMQ's return value from the `completed` event (the worker's `JobReturn`). */
  returnvalue?: unknown;
}

type Wake = (result: WaitResult) => void;

const WATCHED = ['active', 'waiting', 'delayed', 'completed', 'failed', 'stalled', 'removed'] as const;

/** A batch-lane reader with nobody waiting on the lane closes after this long. */
const IDLE_CLOSE_MS = 30_000;

/** The queue a job id names (its lane's, or its batch shard's), or undefined for no job id. */
function queueNameOf(prefix: string, jobId: string): string | undefined {
  const lane = isJobId(jobId) ? laneOfJobId(jobId) : undefined;
  return lane && jobKeys(prefix).queueName(lane, shardOfJobId(jobId));
}

/**
 * Lets requests wait for jobs to finish (`Prefer: wait`, job event streams). One QueueEvents
 * stream reader per queue per process fans events out to waiters, instead of one listener per
 * request. The interactive lane's reader always runs (its events are the API's own traffic); a
 * batch queue's (each shard's, on a sharded lane) runs only while someone waits on one of its
 * jobs, so an API replica does not read a million-job batch's events that nobody asked for.
 */
export class JobWaiter {
  private readonly opts: { connection: Redis | Cluster; prefix: string; idleCloseMs?: number };
  /** Readers by queue name. */
  private readonly events = new Map<string, Promise<QueueEvents>>();
  private readonly waiters = new Map<string, Set<Wake>>();
  private readonly watchers = new Map<string, Set<(event: string) => void>>();
  /** Waits and watches per queue; a batch queue with none may close its reader. */
  private readonly interest = new Map<string, number>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly interactive: string;
  private closed = false;

  /** `connection` should be a `worker`-role client (it blocks and must ride out outages). */
  constructor(opts: { connection: Redis | Cluster; prefix: string; idleCloseMs?: number }) {
    this.opts = opts;
    this.interactive = jobKeys(opts.prefix).queueName('interactive');
    void this.reader(this.interactive);
  }

  /**
   * The queue's reader, started when missing. It reads from the stream's last entry at the time it
   * starts, so an event written once this resolves cannot be missed.
   */
  private reader(name: string): Promise<QueueEvents> {
    const existing = this.events.get(name);
    if (existing) return existing;
    if (this.closed) return Promise.reject(new Error('the job waiter is closed'));
    const started = (async () => {
      const { connection, prefix } = this.opts;
      const last = await connection.xrevrange(`${prefix}:${name}:events`, '+', '-', 'COUNT', 1);
      const qe = new QueueEvents(name, { connection, prefix, lastEventId: last[0]?.[0] ?? '0-0' });
      qe.on('error', () => undefined);
      const wake = (jobId: string, result: WaitResult) => {
        const set = this.waiters.get(jobId);
        if (!set) return;
        this.waiters.delete(jobId);
        for (const w of set) w(result);
      };
      qe.on('completed', ({ jobId, returnvalue }) => wake(jobId, { finished: true, returnvalue }));
      qe.on('failed', ({ jobId }) => wake(jobId, { finished: true }));
      for (const event of WATCHED) {
        qe.on(event, ({ jobId }: { jobId: string }) => {
          for (const w of this.watchers.get(jobId) ?? []) w(event);
        });
      }
      return qe;
    })();
    this.events.set(name, started);
    // A reader that could not start (Redis down) is started again by the next caller.
    started.catch(() => {
      if (this.events.get(name) === started) this.events.delete(name);
    });
    return started;
  }

  /** Counts a wait or watch on the queue; the returned function ends it. */
  private hold(name: string): () => void {
    this.interest.set(name, (this.interest.get(name) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.interest.get(name) ?? 1) - 1;
      this.interest.set(name, left);
      if (name !== this.interactive && left === 0) this.closeWhenIdle(name);
    };
  }

  private closeWhenIdle(name: string): void {
    clearTimeout(this.idleTimers.get(name));
    const timer = setTimeout(() => {
      this.idleTimers.delete(name);
      const reader = this.events.get(name);
      if ((this.interest.get(name) ?? 0) > 0 || !reader) return;
      this.events.delete(name);
      void reader.then((qe) => qe.close()).catch(() => undefined);
    }, this.opts.idleCloseMs ?? IDLE_CLOSE_MS);
    timer.unref();
    this.idleTimers.set(name, timer);
  }

  /** Resolves once the interactive lane's reader runs (a batch queue's starts on demand). */
  async ready(): Promise<void> {
    await (await this.reader(this.interactive)).waitUntilReady();
  }

  /**
   * Resolves `finished: true` when the job finishes (or `isFinished` already says so; then without a
   * return value), `finished: false` on timeout or abort. `isFinished` is checked once the lane's
   * reader runs and after subscribing, so a job that finished just before cannot be missed.
   */
  async wait(
    jobId: string,
    timeoutMs: number,
    isFinished: () => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    const name = queueNameOf(this.opts.prefix, jobId);
    if (!name || timeoutMs <= 0) return { finished: false };
    let wake!: Wake;
    const woken = new Promise<WaitResult>((resolve) => (wake = resolve));
    let set = this.waiters.get(jobId);
    if (!set) this.waiters.set(jobId, (set = new Set()));
    set.add(wake);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => wake({ finished: false });
    const release = this.hold(name);
    try {
      await this.reader(name);
      if (await isFinished()) return { finished: true };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timedOut = new Promise<WaitResult>(
        (resolve) => (timer = setTimeout(() => resolve({ finished: false }), timeoutMs)),
      );
      return await Promise.race([woken, timedOut]);
    } finally {
      release();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const s = this.waiters.get(jobId);
      s?.delete(wake);
      if (s?.size === 0) this.waiters.delete(jobId);
    }
  }

  /**
   * Calls `listener` with each lifecycle event of the job (active, waiting, delayed, completed,
   * failed, ...) seen by this process, and with `subscribed` once the lane's reader runs (read the
   * job again then: it may have moved on before). Returns the unsubscribe function.
   */
  watch(jobId: string, listener: (event: string) => void): () => void {
    const name = queueNameOf(this.opts.prefix, jobId) ?? jobKeys(this.opts.prefix).queueName('batch');
    let set = this.watchers.get(jobId);
    if (!set) this.watchers.set(jobId, (set = new Set()));
    set.add(listener);
    const release = this.hold(name);
    this.reader(name).then(
      () => set.has(listener) && listener('subscribed'),
      () => undefined,
    );
    return () => {
      release();
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(jobId);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    const readers = [...this.events.values()];
    await Promise.all(
      readers.map(async (r) => {
        const qe = await r?.catch(() => undefined);
        await qe?.close();
      }),
    );
  }
}
