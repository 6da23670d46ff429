import type { JobKeys as Keys } from '@switchyard/jobs';
import type { Redis } from 'ioredis';

/**
 * Relays `DELETE /v1/jobs/{id}` to whichever worker holds the job: the API publishes the id, every
 * worker hears it, and the one running the job aborts it (BullMQ hands the processor the signal).
 */
export class CancelListener {
  private readonly sub: Redis;
  private readonly keys: Keys;

  constructor(opts: { subscriber: Redis; keys: Keys; onCancel: (jobId: string) => void }) {
    this.sub = opts.subscriber;
    this.keys = opts.keys;
    this.sub.on('message', (channel: string, jobId: string) => {
      if (channel === this.keys.cancelChannel) opts.onCancel(jobId);
    });
  }

  async start(): Promise<void> {
    await this.sub.subscribe(this.keys.cancelChannel);
  }

  async close(): Promise<void> {
    await this.sub.quit().catch(() => undefined);
  }
}
