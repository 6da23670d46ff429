import type { BatchView } from '@switchyard/contracts';
import { Presets, SingleBar } from 'cli-progress';
import type { Context } from './context.ts';

/** Jobs/s over the readings of the last 30 s, so the rate follows the batch as it speeds up. */
class Rate {
  readonly #samples: { at: number; done: number }[] = [];

  add(done: number, at = Date.now()): number {
    this.#samples.push({ at, done });
    while (this.#samples.length > 2 && at - (this.#samples[0]?.at ?? at) > 30_000) this.#samples.shift();
    const first = this.#samples[0];
    if (!first || at === first.at) return 0;
    return ((done - first.done) * 1000) / (at - first.at);
  }
}

const finished = (b: BatchView) => b.counts.succeeded + b.counts.failed + b.counts.canceled;

function eta(remaining: number, rate: number): string {
  if (remaining === 0) return '0s';
  if (rate <= 0) return '?';
  const s = Math.ceil(remaining / rate);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`;
}

/** One reading of a batch as a user reads it: done/total, jobs/s, ETA, failures, cost so far. */
export function describeBatch(b: BatchView, rate: number): string {
  const done = finished(b);
  const failed = b.counts.failed + b.counts.canceled;
  return (
    `${done}/${b.counts.accepted} done, ${rate.toFixed(1)} jobs/s, ETA ${eta(b.counts.accepted - done, rate)}, ` +
    `${failed} failed, $${b.cost.usd.toFixed(4)}`
  );
}

export interface BatchProgress {
  update(batch: BatchView): void;
  stop(): void;
}

/**
 * Progress of a running batch: a bar redrawn in place on a terminal; elsewhere one plain line
 * every `intervalMs` (and the last reading), so logs stay readable.
 */
export function batchProgress(ctx: Context, intervalMs: number): BatchProgress {
  const rate = new Rate();
  if (ctx.tty && !ctx.json) {
    const bar = new SingleBar(
      {
        format: '{bar} {value}/{total} | {rate} jobs/s | ETA {left} | {failed} failed | ${cost}',
        hideCursor: true,
        fps: 5,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(b) {
        const r = rate.add(finished(b));
        const payload = {
          rate: r.toFixed(1),
          left: eta(b.counts.accepted - finished(b), r),
          failed: b.counts.failed + b.counts.canceled,
          cost: b.cost.usd.toFixed(4),
        };
        if (!started) bar.start(b.counts.accepted, finished(b), payload);
        else bar.update(finished(b), payload);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let latest: string | undefined;
  return {
    update(b) {
      latest = `batch ${b.id}: ${describeBatch(b, rate.add(finished(b)))}`;
      if (Date.now() - last < intervalMs) return;
      last = Date.now();
      ctx.status(latest);
      latest = undefined;
    },
    stop() {
      if (latest) ctx.status(latest);
    },
  };
}
