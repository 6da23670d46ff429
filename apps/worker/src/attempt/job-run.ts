import type { JobSpec } from '@switchyard/contracts';
import { formatFailure, type JobData, type JobReturn } from '@switchyard/jobs';
import { UnrecoverableError, type Job } from 'bullmq';
import type { FailDecision } from '../retry-authority.ts';
import { upstreamOf, type BudgetScope } from '../retry-budget.ts';
import type { ProcessorDeps } from './deps.ts';

/**
 * One BullMQ run of a job, before and after its attempt is numbered: what every step reads about
 * the job, and how the run ends in a final failure.
 */
export class JobRun {
  readonly job: Job<JobData, JobReturn>;
  readonly deps: ProcessorDeps;
  readonly jobId: string;
  readonly spec: JobSpec;
  readonly tenantId: string;
  readonly deadline: number;
  /** The requested model, then its fallbacks in order; `[null]` for a scrape. */
  readonly models: (string | null)[];
  /** Deltas are relayed to a client as they arrive (`stream: true`). */
  readonly streaming: boolean;

  constructor(job: Job<JobData, JobReturn>, deps: ProcessorDeps) {
    const { spec, deadline, tenantId } = job.data;
    this.job = job;
    this.deps = deps;
    this.jobId = job.id ?? '';
    this.spec = spec;
    this.tenantId = tenantId;
    this.deadline = deadline;
    this.models = spec.type === 'completion' ? [spec.request.model, ...(spec.fallbacks ?? [])] : [null];
    this.streaming = job.data.stream === true;
  }

  /** The model at `index` (0 is the requested one); past the last, the last. */
  modelAt(index: number): string | null {
    return this.models[Math.min(index, this.models.length - 1)] ?? null;
  }

  /** Whose retry budget an attempt on `model` (null: a scrape) counts against. */
  budgetScope(model: string | null): BudgetScope {
    return { upstream: upstreamOf(this.spec, model), tenantId: this.tenantId };
  }

  /**
   * The error that ends the job (BullMQ does not retry it). A streaming client hears the failure
   * before BullMQ records it; `attempt` is 0 when no attempt was numbered.
   */
  async fail(decision: Pick<FailDecision, 'code' | 'message'>, attempt = 0): Promise<UnrecoverableError> {
    const { code, message } = decision;
    if (this.streaming) await this.deps.relays.open(this.jobId, attempt).fail(code, message);
    return new UnrecoverableError(formatFailure(code, message));
  }
}
