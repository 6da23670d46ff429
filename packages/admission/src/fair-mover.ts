import type { Queue } from 'bullmq';
import type { FairRefill, FairShare } from './fair-share.ts';

export interface FairMoverOptions {
  fair: FairShare;
  /** The batch lane's queue, or on a sharded lane the queue of shard `shard`. */
  queue: Queue;
  /** The batch-lane shard this mover refills (its queue and its ring); default 0. */
  shard?: number;
  /** Ready jobs to keep in the batch lane (a little more than the fleet's batch concurrency). */
  buffer: number;
  /** Between rounds while no tenant has a backlog (ms); default 50. */
  intervalMs?: number;
  /** Between rounds while jobs are held (ms); default 5: each round moves what ran meanwhile. */
  busyMs?: number;
  onError?: (err: unknown) => void;
}

/** Keeps the batch lane's ready queue topped up from the fair-share backlogs. */
export class FairMover {
  private readonly opts: FairMoverOptions;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private looping: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(opts: FairMoverOptions) {
    this.opts = opts;
  }

  /** One refill: how many are ready now, and take the difference. Returns how many it moved. */
  async refill(): Promise<number> {
    return (await this.round()).moved;
  }

  private round(): Promise<FairRefill> {
    return this.opts.fair.refill(this.opts.queue, this.opts.buffer, this.opts.shard ?? 0);
  }

  /**
   * When the next round runs: at once when this one moved half the buffer or more (the lane
   * drains fast), soon while jobs are held (one script call moves what ran meanwhile, instead of
   * one call per job or two), slowly when nothing is held.
   */
  private pause({ moved, held }: FairRefill): number {
    if (moved * 2 >= this.opts.buffer) return 0;
    return held ? (this.opts.busyMs ?? 5) : (this.opts.intervalMs ?? 50);
  }

  start(): void {
    this.running = true;
    const loop = async () => {
      let wait = this.opts.intervalMs ?? 50;
      try {
        if (Date.now() - this.lastSweep > 10_000) {
          this.lastSweep = Date.now();
          await this.opts.fair.sweep(this.opts.queue, 30_000, Date.now(), this.opts.shard ?? 0);
        }
        wait = this.pause(await this.round());
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (this.running) this.timer = setTimeout(() => (this.looping = loop()), wait);
    };
    this.looping = loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.looping;
  }
}
