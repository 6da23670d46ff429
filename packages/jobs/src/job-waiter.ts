import { LANES, type Lane } from '@switchyard/contracts';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobKeys } from './keys.ts';
import { laneOfJobId } from './job-ids.ts';

type Wake = () => void;

const WATCHED = ['active', 'waiting', 'delayed', 'completed', 'failed', 'stalled', 'removed'] as const;

/**
 * Lets requests wait for jobs to finish (`Prefer: wait`). One QueueEvents stream reader per lane
 * per process fans completion events out to waiters, instead of one listener per request.
 */
export class JobWaiter {
  private readonly events: Record<Lane, QueueEvents>;
  private readonly waiters = new Map<string, Set<Wake>>();
  private readonly watchers = new Map<string, Set<(event: string) => void>>();

  /** `connection` should be a `worker`-role client (it blocks and must ride out outages). */
  constructor(opts: { connection: Redis; prefix: string }) {
    const keys = jobKeys(opts.prefix);
    const make = (lane: Lane) => {
      const qe = new QueueEvents(keys.queueName(lane), { connection: opts.connection, prefix: opts.prefix });
      qe.on('error', () => undefined);
      const wake = ({ jobId }: { jobId: string }) => {
        const set = this.waiters.get(jobId);
        if (!set) return;
        this.waiters.delete(jobId);
        for (const w of set) w();
      };
      qe.on('completed', wake);
      qe.on('failed', wake);
      for (const event of WATCHED) {
        qe.on(event, ({ jobId }: { jobId: string }) => {
          for (const w of this.watchers.get(jobId) ?? []) w(event);
        });
      }
      return qe;
    };
    this.events = { interactive: make('interactive'), batch: make('batch') };
  }

  async ready(): Promise<void> {
    await Promise.all(LANES.map((l) => this.events[l].waitUntilReady()));
  }

  /**
   * Resolves true when the job finishes (or `isFinished` already says so), false on timeout.
   * `isFinished` is checked after subscribing, so a job that finished just before cannot be missed.
   */
  async wait(
    jobId: string,
    timeoutMs: number,
    isFinished: () => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (!laneOfJobId(jobId) || timeoutMs <= 0) return false;
    let wake!: Wake;
    const woken = new Promise<true>((resolve) => (wake = () => resolve(true)));
    let set = this.waiters.get(jobId);
    if (!set) this.waiters.set(jobId, (set = new Set()));
    set.add(wake);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => wake();
    try {
      if (await isFinished()) return true;
      signal?.addEventListener('abort', onAbort, { once: true });
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      return await Promise.race([woken, timedOut]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const s = this.waiters.get(jobId);
      s?.delete(wake);
      if (s?.size === 0) this.waiters.delete(jobId);
    }
  }

  /**
   * Calls `listener` with each lifecycle event of the job (active, waiting, delayed, completed,
   * failed, ...) seen by this process. Returns the unsubscribe function.
   */
  watch(jobId: string, listener: (event: string) => void): () => void {
    let set = this.watchers.get(jobId);
    if (!set) this.watchers.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(jobId);
    };
  }

  async close(): Promise<void> {
    await Promise.all(LANES.map((l) => this.events[l].close()));
  }
}
