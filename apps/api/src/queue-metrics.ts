import { LANES } from '@switchyard/contracts';
import type { JobStore } from '@switchyard/jobs';
import { Gauge, type Registry } from 'prom-client';

/** The BullMQ states shown, under BullMQ's own names. */
const STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;

/**
 * `switchyard_queue_jobs{lane,state}`: jobs per lane waiting for a worker (`waiting` +
 * `prioritized`), held back (`delayed`: retries, pool exhaustion, the batch fair share) and
 * running (`active`), read from Redis when scraped. What autoscalers (KEDA, HPA) key worker
 * replicas on (infra/k8s).
 */
export function registerQueueMetrics(registry: Registry, store: JobStore): void {
  new Gauge({
    name: 'switchyard_queue_jobs',
    help: 'Jobs per lane and BullMQ state (waiting and prioritized: ready for a worker; delayed; active)',
    labelNames: ['lane', 'state'],
    registers: [registry],
    collect: async function (this: Gauge<'lane' | 'state'>) {
      // Redis down: keep the last values rather than fail the whole scrape (/readyz says why).
      const counts = await Promise.all(LANES.map((lane) => store.queues[lane].getJobCounts(...STATES))).catch(
        () => undefined,
      );
      if (!counts) return;
      LANES.forEach((lane, i) => {
        for (const state of STATES) this.set({ lane, state }, counts[i]?.[state] ?? 0);
      });
    },
  });
}
