import type { Cost } from './cost.ts';
import type { ErrorCode } from './error-codes.ts';
import type { JobRecord, JobStatus } from './jobs.ts';
import type { FieldError } from './problem.ts';

/** How a batch's job ended. */
export type BatchJobOutcome = 'succeeded' | 'failed' | 'canceled';

/** The public view of a batch (`GET /v1/batches/{id}`). */
export interface BatchRecord {
  id: string;
  object: 'batch';
  status: 'in_progress' | 'completed';
  counts: Record<'total' | 'accepted' | 'rejected' | 'queued_or_running' | BatchJobOutcome, number>;
  cost: Cost;
  created_at: string;
  /** Where the `batch.completed` event goes (`POST /v1/batches?webhook_url=`). */
  webhook: { url: string } | null;
}

/** A line of a batch body that was refused, with the reason (the other lines still run). */
export interface LineRejection {
  /** 1-based line number in the body (array index + 1 for a JSON array). */
  line: number;
  custom_id: string | null;
  code: ErrorCode;
  errors: FieldError[];
}

/** The answer to `POST /v1/batches`: the batch, and its rejected lines. */
export interface BatchCreated extends BatchRecord {
  /** The first 1,000 rejected lines, in line order (`counts.rejected` counts them all). */
  rejected_lines: LineRejection[];
  rejected_lines_truncated: boolean;
}

/** One line of `GET /v1/batches/{id}/results`. A job past its retention reads `expired`. */
export type BatchResultLine = Pick<JobRecord, 'result' | 'error' | 'cost'> & {
  custom_id: string;
  job_id: string;
  status: JobStatus | 'expired';
};
