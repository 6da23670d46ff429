import { z } from 'zod';
import { positiveInt } from './primitives.ts';

/** `worker.*`: what a worker process serves, how many jobs at once, and how it stops. */
export const WorkerConfigSchema = z
  .strictObject({
    /** Lanes this worker process serves. */
    lanes: z
      .array(z.enum(['interactive', 'batch']))
      .min(1)
      .default(['interactive', 'batch']),
    /** Jobs in flight per lane in one worker process. */
    concurrency: z
      .strictObject({ interactive: positiveInt().default(32), batch: positiveInt().default(16) })
      .prefault({}),
    /** On SIGTERM: how long in-flight jobs may run before the worker exits anyway. */
    shutdownGraceMs: positiveInt().default(30_000),
    /**
     * How long a job lock lives without renewal. A worker that died (or was force-stopped)
     * loses its jobs to other workers after about this long.
     */
    lockDurationMs: positiveInt().min(1_000).default(30_000),
    /** Port of the worker's /metrics server; 0 picks a free one. */
    metricsPort: z.number().int().min(0).max(65535).default(0),
    metricsHost: z.string().default('127.0.0.1'),
    /**
     * How often a worker writes its heartbeat (id, host, lanes, concurrency, jobs in flight)
     * to Redis; `GET /v1/admin/lanes` lists workers heard from within three of these.
     */
    heartbeatMs: positiveInt().min(100).default(5_000),
    /** Webhook deliveries in flight per worker process (their own queue, never job slots). */
    webhookConcurrency: positiveInt().max(1_000).default(8),
    /**
     * The Unix nice value (0–19) a worker process serving only the batch lane runs at, so on
     * a shared host the interactive lane's workers, the API and Redis get the CPU first (ADR
     * 0027). 0 leaves the process as started; a worker serving the interactive lane is never
     * changed.
     */
    batchNice: z.number().int().min(0).max(19).default(10),
  })
  .prefault({});
