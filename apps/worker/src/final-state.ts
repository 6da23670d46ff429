import type { Ledger } from '@switchyard/ledger';
import type { TenantLoad } from '@switchyard/admission';
import type { BatchJobOutcome, BatchStore } from '@switchyard/batches';
import { parseFailure, type FailureLog, type JobData, type JobReturn } from '@switchyard/jobs';
import type { WebhookOutbox } from '@switchyard/webhooks';
import type { Logger } from '@switchyard/telemetry';
import type { Job, Worker } from 'bullmq';

/** The fields of a BullMQ job read here, as the `completed` and `failed` events hand it over. */
export type FinishedJob = Pick<Job<JobData, JobReturn>, 'id' | 'data' | 'finishedOn' | 'failedReason'> & {
  returnvalue?: JobReturn;
};

export interface FinalStateOptions {
  load: Pick<TenantLoad, 'finished'>;
  webhooks: Pick<WebhookOutbox, 'jobFinished'>;
  batches: Pick<BatchStore, 'recordFinished'>;
  /** Read for the cost of a job that did not succeed (a succeeded one returns its total). */
  ledger: Pick<Ledger, 'jobTotals'>;
  /** Jobs that failed for good (not canceled), for the ops page. */
  failures: Pick<FailureLog, 'record'>;
  logger: Logger;
}

/**
 * What happens when a job reaches its final state: it stops counting against its tenant's
 * limits, its `job.finished` webhook is enqueued (once: the event id is the delivery's job id),
 * it is counted (once) with its ledger cost on its batch, and a failed one goes on the failure log. Each update is tried on its own;
 * a failed one is logged, never thrown: the job's own outcome is already recorded.
 */
export class FinalState {
  private readonly opts: FinalStateOptions;

  constructor(opts: FinalStateOptions) {
    this.opts = opts;
  }

  /** Follows a lane's Worker: completed jobs, and failed ones on their final failure only. */
  watch(worker: Pick<Worker<JobData, JobReturn>, 'on'>): void {
    worker.on('completed', (job) => void this.completed(job));
    worker.on('failed', (job) => void this.failed(job));
  }

  completed(job: FinishedJob | undefined): Promise<void> {
    return this.reached(job, 'succeeded');
  }

  /** BullMQ reports every failed run; only the final failure sets `finishedOn` (not one before a retry). */
  failed(job: FinishedJob | undefined): Promise<void> {
    if (!job?.finishedOn) return Promise.resolve();
    return this.reached(job, parseFailure(job.failedReason).code === 'canceled' ? 'canceled' : 'failed');
  }

  private async reached(job: FinishedJob | undefined, status: BatchJobOutcome): Promise<void> {
    const jobId = job?.id;
    if (!job || !jobId) return;
    const { load, webhooks, logger } = this.opts;
    const warn = (what: string) => (err: unknown) => logger.warn({ err, jobId }, what);
    await Promise.all([
      load.finished(job.data.tenantId, [jobId]).catch(warn('tenant load update failed')),
      job.data.spec.webhook ? webhooks.jobFinished(job).catch(warn('webhook enqueue failed')) : undefined,
      this.countInBatch(job, jobId, status).catch(warn('batch count failed')),
      status === 'failed' ? this.logFailure(job, jobId).catch(warn('failure log write failed')) : undefined,
    ]);
  }

  private async logFailure(job: FinishedJob, jobId: string): Promise<void> {
    const { code, message } = parseFailure(job.failedReason);
    const { spec, tenantId } = job.data;
    await this.opts.failures.record({
      at: new Date(job.finishedOn ?? Date.now()).toISOString(),
      code,
      message,
      job_id: jobId,
      tenant_id: tenantId,
      lane: spec.lane,
      model: spec.type === 'completion' ? spec.request.model : null,
    });
  }

  private async countInBatch(job: FinishedJob, jobId: string, status: BatchJobOutcome): Promise<void> {
    const { batch, tenantId } = job.data;
    if (!batch) return;
    // A succeeded job returned its total cost (the ledger's, every attempt); others are read.
    const ret = status === 'succeeded' ? job.returnvalue : undefined;
    const costNanos = ret ? ret.costNanos : (await this.opts.ledger.jobTotals(tenantId, jobId)).costNanos;
    await this.opts.batches.recordFinished(tenantId, batch.id, jobId, status, costNanos);
  }
}
