import type { Queue } from 'bullmq';
import type { FairShare } from './fair-share.ts';

export interface FairMoverOptions {
  fair: FairShare;
  queue: Queue;
  /** Ready jobs to keep in the batch lane (a little more than the fleet's batch concurrency). */
  buffer: number;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

/** Keeps the batch lane's ready queue topped up from the fair-share backlogs. */
export class FairMover {
  private readonly opts: FairMoverOptions;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(opts: FairMoverOptions) {
    this.opts = opts;
  }

  /** One refill: how many are ready now, and take the difference. Returns how many it moved. */
  async refill(): Promise<number> {
    const counts = await this.opts.queue.getJobCounts('wait', 'prioritized');
    const deficit = this.opts.buffer - (counts.wait ?? 0) - (counts.prioritized ?? 0);
    if (deficit <= 0) return 0;
    const ids = await this.opts.fair.take(deficit);
    await this.opts.fair.release(this.opts.queue, ids);
    return ids.length;
  }

  start(): void {
    this.running = true;
    const loop = async () => {
      let moved = 0;
      try {
        if (Date.now() - this.lastSweep > 10_000) {
          this.lastSweep = Date.now();
          await this.opts.fair.sweep(this.opts.queue, 30_000);
        }
        moved = await this.refill();
      } catch (err) {
        this.opts.onError?.(err);
      }
      if (this.running)
        this.timer = setTimeout(() => (this.round = loop()), moved > 0 ? 0 : (this.opts.intervalMs ?? 50));
    };
    this.round = loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
  }
}
