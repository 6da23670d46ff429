import type { Cost } from './cost.ts';
import type { ErrorCode } from './error-codes.ts';
import type { JobRecord, JobStatus } from './jobs.ts';
import type { FieldError } from './problem.ts';

/** How a batch's job ended. */
export type BatchJobOutcome = 'succeeded' | 'failed' | 'canceled';

/** A batch's status, with OpenAI's Batch API values (docs/adr/0014-openai-files-and-batches.md). */
export type BatchStatus =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'failed'
  | 'cancelling'
  | 'cancelled'
  | 'expired';

/** The statuses a batch ends in: nothing of it runs any more. */
export const BATCH_FINAL_STATUSES: readonly BatchStatus[] = ['completed', 'failed', 'cancelled', 'expired'];

export const isBatchFinished = (status: BatchStatus): boolean => BATCH_FINAL_STATUSES.includes(status);

/** OpenAI's `request_counts`: `failed` counts rejected lines and failed or canceled jobs. */
export interface BatchRequestCounts {
  total: number;
  completed: number;
  failed: number;
}

/**
 * A batch: Switchyard's fields (counts, cost, webhook) and OpenAI's Batch object. OpenAI's
 * timestamps are unix seconds (null until they happen); `created_at` is an ISO string here. Over
 * HTTP a batch is a `BatchView` (see `viewOfBatch`).
 */
export interface BatchRecord {
  id: string;
  object: 'batch';
  status: BatchStatus;
  counts: Record<'total' | 'accepted' | 'rejected' | 'queued_or_running' | BatchJobOutcome, number>;
  cost: Cost;
  created_at: string;
  /** Where the `batch.completed` event goes (`POST /v1/batches?webhook_url=`). */
  webhook: { url: string } | null;
  request_counts: BatchRequestCounts;
  /** `/v1/chat/completions` for file batches; null for batches sent as lines (any job type). */
  endpoint: string | null;
  input_file_id: string | null;
  /** Readable through `GET /v1/files/{id}/content` once the batch has finished. */
  output_file_id: string | null;
  /** Set once the batch has finished with at least one rejected line or failed job. */
  error_file_id: string | null;
  completion_window: string | null;
  metadata: Record<string, string> | null;
  in_progress_at: number | null;
  expires_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  errors: null;
}

/**
 * A batch as `GET /v1/batches/{id}` answers it: a batch created from an uploaded file
 * (`input_file_id`, the OpenAI flow) has `created_at` in unix seconds, as OpenAI SDKs expect; a
 * batch sent as lines keeps the ISO string its clients always read (docs/adr/0014).
 */
export type BatchView = BatchRecord | (Omit<BatchRecord, 'created_at'> & { created_at: number });

export function viewOfBatch<T extends BatchRecord>(batch: T): BatchView {
  if (batch.input_file_id === null) return batch;
  return { ...batch, created_at: Math.floor(Date.parse(batch.created_at) / 1000) };
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

/** A page of `GET /v1/batches` (OpenAI's list shape, newest first). */
export interface BatchList {
  object: 'list';
  data: BatchView[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** OpenAI's File object (`/v1/files`). Timestamps are unix seconds. */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: 'batch' | 'batch_output';
  status: 'processed';
}
