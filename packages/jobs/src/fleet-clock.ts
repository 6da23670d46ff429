import type { Cluster, Redis } from 'ioredis';

const SAMPLES = 5;
/** Re-measured this often: local clocks drift, and NTP may step them. */
const EVERY_MS = 60_000;
/** A new measurement within this of the offset in use is noise (half a round trip), not drift. */
const NOISE_MS = 50;

/**
 * The offset (ms) from this process's clock to the Redis server's: the TIME round trip with the
 * shortest delay of a few, its reading taken as the midpoint (error at most half that delay).
 */
export async function measureClockOffset(redis: Redis | Cluster, localNow: () => number): Promise<number> {
  let best: { rtt: number; offset: number } | undefined;
  for (let i = 0; i < SAMPLES; i++) {
    const sent = localNow();
    const [s, us] = await redis.time();
    const received = localNow();
    const server = Number(s) * 1000 + Number(us) / 1000;
    const rtt = received - sent;
    if (!best || rtt < best.rtt) best = { rtt, offset: server - (sent + received) / 2 };
  }
  return Math.round(best?.offset ?? 0);
}

export interface FleetClock {
  /** The offset in use: what `Date.now()` adds to the local clock. */
  offsetMs(): number;
  /** Stops re-measuring and gives `Date.now` back. */
  stop(): void;
}

export interface FleetClockOptions {
  /** Told when the local clock is more than a second off the server's (a host to fix). */
  onSkew?: (offsetMs: number) => void;
  /** How long start-up waits for the first measurement before going on with the local clock. */
  firstWithinMs?: number;
}

/**
 * Puts this process on the fleet's clock, the Redis server's: `Date.now()` answers local time plus
 * the measured offset. Everything that must agree across processes reads `Date.now()`: job
 * deadlines, the ledger's UTC day, Retry-After and backoff delays, and BullMQ's own scores for
 * delayed jobs and their promotion (its scripts take the caller's `Date.now()`), which no option
 * of BullMQ's moves to the server's clock. Correcting the one clock they all read keeps a host
 * whose clock is off from starting attempts past their deadline, retrying before Retry-After,
 * or billing the wrong day (ADR 0022). Measured at start (waiting `firstWithinMs` at most; until
 * then the local clock stands) and every minute; a process-wide change, so only the apps' entry
 * points call it.
 */
export async function runOnFleetClock(
  redis: Redis | Cluster,
  opts: FleetClockOptions = {},
): Promise<FleetClock> {
  const original = Date.now;
  const localNow = () => original.call(Date);
  let offset = 0;
  const measure = async () => {
    const next = await measureClockOffset(redis, localNow);
    if (Math.abs(next - offset) <= NOISE_MS) return;
    offset = next;
    if (Math.abs(offset) > 1_000) opts.onSkew?.(offset);
  };
  Date.now = () => localNow() + offset;
  const first = measure().catch(() => undefined);
  await Promise.race([first, new Promise((r) => setTimeout(r, opts.firstWithinMs ?? 5_000).unref())]);
  const timer = setInterval(() => void measure().catch(() => undefined), EVERY_MS);
  timer.unref();
  return {
    offsetMs: () => offset,
    stop() {
      clearInterval(timer);
      Date.now = original;
    },
  };
}
