import type { Config } from '@switchyard/config';
import { WorkerRegistry } from '@switchyard/jobs';
import type { Logger } from '@switchyard/telemetry';
import type { Cluster, Redis } from 'ioredis';
import { laneSlots } from './lane-queues.ts';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process in the fleet's worker list (`GET /v1/admin/lanes`): a heartbeat every
 * `worker.heartbeatMs` with its lanes, concurrency and the jobs it is running, removed when it stops.
 */
export class WorkerPresence {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private inFlight = 0;
  private registry: WorkerRegistry | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Wraps a job processor so the jobs it is running are counted. */
  counted<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      this.inFlight++;
      try {
        return await fn(...args);
      } finally {
        this.inFlight--;
      }
    };
  }

  /** Announces the process now and every `worker.heartbeatMs` until `stop`. */
  async start(opts: {
    redis: Redis | Cluster;
    config: Config;
    logger: Logger;
    metricsUrl: string;
  }): Promise<void> {
    const { lanes, heartbeatMs } = opts.config.worker;
    const registry = new WorkerRegistry({ redis: opts.redis, prefix: opts.config.redis.prefix });
    this.registry = registry;
    const startedAt = new Date().toISOString();
    const beat = () =>
      registry.beat({
        id: this.id,
        host: hostname(),
        pid: process.pid,
        lanes: [...lanes],
        concurrency: laneSlots(opts.config),
        in_flight: this.inFlight,
        started_at: startedAt,
        metrics_url: opts.metricsUrl,
      });
    await beat();
    this.timer = setInterval(() => {
      beat().catch((err: unknown) => opts.logger.debug({ err }, 'worker heartbeat not written'));
    }, heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat; `leave` also removes the entry (a graceful stop). */
  async stop(leave: boolean): Promise<void> {
    clearInterval(this.timer);
    if (leave) await this.registry?.remove(this.id).catch(() => undefined);
  }
}
