import { LANES, type Lane } from '@switchyard/contracts';
import type { JobStore } from '@switchyard/jobs';
import { Gauge, type Registry } from 'prom-client';

/** The BullMQ states shown, under BullMQ's own names. */
const STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;

/**
 * `switchyard_queue_jobs{lane,state}`: jobs per lane waiting for a worker (`waiting` +
 * `prioritized`), held back (`delayed`: retries, pool exhaustion, the batch fair share) and
 * running (`active`), read from Redis when scraped. What autoscalers (KEDA, HPA) key worker
 * replicas on (infra/k8s). A sharded batch lane reports the sum over its shards.
 */
export function registerQueueMetrics(registry: Registry, store: JobStore): void {
  new Gauge({
    name: 'switchyard_queue_jobs',
    help: 'Jobs per lane and BullMQ state (waiting and prioritized: ready for a worker; delayed; active)',
    labelNames: ['lane', 'state'],
    registers: [registry],
    collect: async function (this: Gauge<'lane' | 'state'>) {
      // Redis down: keep the last values rather than fail the whole scrape (/readyz says why).
      const counts = await Promise.all(LANES.map((lane) => laneCounts(store, lane))).catch(() => undefined);
      if (!counts) return;
      LANES.forEach((lane, i) => {
        for (const state of STATES) this.set({ lane, state }, counts[i]?.[state] ?? 0);
      });
    },
  });
}

/** A lane's job counts per state, summed over its queues (a sharded batch lane's shards). */
async function laneCounts(store: JobStore, lane: Lane): Promise<Record<string, number>> {
  const each = await Promise.all(store.queuesOf(lane).map((q) => q.getJobCounts(...STATES)));
  const sum: Record<string, number> = {};
  for (const counts of each)
    for (const state of STATES) sum[state] = (sum[state] ?? 0) + (counts[state] ?? 0);
  return sum;
}
