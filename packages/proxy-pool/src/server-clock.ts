import type { Cluster, Redis } from 'ioredis';

const RECALIBRATE_MS = 60_000;

/**
 * The clock the pool's scripts run on: the Redis server's, so workers with skewed clocks still
 * agree on lease expiry and cooldown ends. Rather than a TIME call inside every script, it keeps
 * this process's offset to the server clock, measured in the background once a minute; until the
 * first measurement lands, scripts read TIME themselves (argument ""). A fixed clock (tests)
 * replaces all of this.
 */
export class ServerClock {
  readonly #redis: Redis | Cluster;
  readonly #fixed: (() => number) | undefined;
  #offset: number | undefined;
  #measuredAt = -Infinity;
  #measuring = false;

  constructor(redis: Redis | Cluster, fixed?: () => number) {
    this.#redis = redis;
    this.#fixed = fixed;
  }

  /** The script argument: milliseconds as a string, or "" for the server's TIME. */
  arg(): string {
    if (this.#fixed) return String(Math.floor(this.#fixed()));
    if (performance.now() - this.#measuredAt > RECALIBRATE_MS) this.#measure();
    return this.#offset === undefined ? '' : String(Date.now() + this.#offset);
  }

  /** The current time for reads done outside scripts. */
  async now(): Promise<number> {
    if (this.#fixed) return Math.floor(this.#fixed());
    const [s, us] = await this.#redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  #measure(): void {
    if (this.#measuring) return;
    this.#measuring = true;
    const sent = Date.now();
    this.#redis
      .time()
      .then(([s, us]) => {
        const received = Date.now();
        const server = Number(s) * 1000 + Number(us) / 1000;
        this.#offset = Math.round(server - (sent + received) / 2);
        this.#measuredAt = performance.now();
      })
      .catch(() => {
        // keep the last offset (or the in-script TIME); try again in a second
        this.#measuredAt = performance.now() - RECALIBRATE_MS + 1000;
      })
      .finally(() => {
        this.#measuring = false;
      });
  }
}
