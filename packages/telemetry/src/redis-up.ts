import { Gauge, type Registry } from 'prom-client';

/** What `switchyard_redis_up` asks of a client (an ioredis `Redis` fits). */
export interface RedisProbe {
  /** `ready` when commands can be sent now (ioredis' connection status). */
  readonly status: string;
  ping(): Promise<unknown>;
}

const PING_TIMEOUT_MS = 1_000;

/**
 * `switchyard_redis_up`: 1 when this process's Redis connection is ready and answers a PING within
 * a second at scrape time, else 0. One PING per scrape; a client that is reconnecting answers 0
 * without being asked, so a scrape never waits on Redis for longer than the timeout.
 */
export function registerRedisUp(registry: Registry, redis: RedisProbe): void {
  new Gauge({
    name: 'switchyard_redis_up',
    help: "1 when this process's Redis connection is ready and answers PING within 1 s at scrape time, else 0",
    registers: [registry],
    collect: async function (this: Gauge) {
      this.set((await answers(redis)) ? 1 : 0);
    },
  });
}

async function answers(redis: RedisProbe): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([redis.ping().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
