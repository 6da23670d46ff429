import { costFromNanos, type JobRecord, type JobSpec, type JobStatus } from '@switchyard/contracts';
import type { Job, JobState } from 'bullmq';
import { parseFailure, type JobData, type JobReturn } from './job-data.ts';

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

export function statusOf(
  state: JobState | 'unknown',
  failedReason: string | undefined,
  cancelRequested: boolean,
): JobStatus {
  if (state === 'completed') return 'succeeded';
  if (state === 'failed') return parseFailure(failedReason).code === 'canceled' ? 'canceled' : 'failed';
  if (cancelRequested) return 'canceled';
  return state === 'active' ? 'running' : 'queued';
}

/** The public view of a job (`GET /v1/jobs/{id}`). */
export function toJobRecord(
  job: Job<JobData, JobReturn | undefined>,
  state: JobState | 'unknown',
  cancelRequested: boolean,
  attempts: number,
  /** From the ledger when there is one: every attempt, failed ones included. */
  costNanos?: number,
): JobRecord {
  const { spec } = job.data;
  const status = statusOf(state, job.failedReason, cancelRequested);
  const ret = state === 'completed' ? job.returnvalue : undefined;
  const failure =
    state === 'failed'
      ? parseFailure(job.failedReason)
      : status === 'canceled'
        ? { code: 'canceled', message: 'the job was canceled' }
        : null;
  return {
    id: job.id ?? '',
    object: 'job',
    type: spec.type,
    lane: spec.lane,
    priority: spec.priority,
    status,
    created_at: new Date(job.data.submittedAt).toISOString(),
    started_at: iso(job.processedOn),
    finished_at: state === 'completed' || state === 'failed' ? iso(job.finishedOn) : null,
    deadline_at: new Date(job.data.deadline).toISOString(),
    attempts,
    result: ret?.result ?? null,
    error: failure,
    cost: costFromNanos(costNanos ?? ret?.costNanos ?? 0),
    metadata: spec.metadata ?? {},
    webhook: spec.webhook ? { url: spec.webhook.url } : null,
  };
}

/**
 * The record of a job just added that no one has touched yet: what `toJobRecord` reads back from
 * Redis for it (queued, no attempt, nothing spent), built from what was stored.
 */
export function newJobRecord(jobId: string, spec: JobSpec, submittedAt: number, deadline: number): JobRecord {
  return {
    id: jobId,
    object: 'job',
    type: spec.type,
    lane: spec.lane,
    priority: spec.priority,
    status: 'queued',
    created_at: new Date(submittedAt).toISOString(),
    started_at: null,
    finished_at: null,
    deadline_at: new Date(deadline).toISOString(),
    attempts: 0,
    result: null,
    error: null,
    cost: costFromNanos(0),
    metadata: spec.metadata ?? {},
    webhook: spec.webhook ? { url: spec.webhook.url } : null,
  };
}
