import { jobKeys } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';

/**
 * Relays `DELETE /v1/jobs/{id}` to whichever worker holds the job: the API publishes the id, every
 * worker hears it, and the one running the job aborts it (BullMQ hands the processor the signal).
 */
export class CancelListener {
  private readonly sub: Redis | Cluster;
  private readonly channel: string;

  constructor(opts: { subscriber: Redis | Cluster; prefix: string; onCancel: (jobId: string) => void }) {
    this.sub = opts.subscriber;
    this.channel = jobKeys(opts.prefix).cancelChannel;
    this.sub.on('message', (channel: string, jobId: string) => {
      if (channel === this.channel) opts.onCancel(jobId);
    });
  }

  async start(): Promise<void> {
    await this.sub.subscribe(this.channel);
  }

  async close(): Promise<void> {
    await this.sub.quit().catch(() => undefined);
  }
}
