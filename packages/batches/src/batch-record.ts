import { costFromNanos, type BatchRecord, type BatchStatus } from '@switchyard/contracts';

export type { BatchJobOutcome, BatchRecord, BatchResultLine } from '@switchyard/contracts';

const num = (v: string | undefined) => Number(v ?? 0);
const secondsOrNull = (v: string | undefined) => (v ? Number(v) : null);

/** The only endpoint a file batch runs (OpenAI's `endpoint`). */
export const FILE_BATCH_ENDPOINT = '/v1/chat/completions';

/** The stable ids of a batch's output and error files (`GET /v1/files/{id}/content`). */
export const batchFileIds = (batchId: string) => ({
  output: `file-${batchId}-output`,
  errors: `file-${batchId}-errors`,
});

/** The batch and which of its files an id names, or undefined when it names none. */
export function parseBatchFileId(id: string): { batchId: string; kind: 'output' | 'errors' } | undefined {
  const m = /^file-(bt_[0-9a-fk]{20,48})-(output|errors)$/.exec(id);
  return m ? { batchId: m[1] ?? '', kind: m[2] as 'output' | 'errors' } : undefined;
}

interface Progress {
  accepted: number;
  finished: number;
  rejected: number;
  failedJobs: number;
  finalized: boolean;
}

/** OpenAI's status from the counts and the batch's marks (cancel, window). */
function statusOf(h: Record<string, string>, p: Progress, now: number): BatchStatus {
  if (!p.finalized) return 'validating';
  const fromFile = Boolean(h.oa_file);
  const expiresAt = h.oa_expires ? num(h.oa_expires) : undefined;
  if (p.finished < p.accepted) {
    if (h.cancel_at) return 'cancelling';
    return expiresAt !== undefined && now / 1000 > expiresAt ? 'expired' : 'in_progress';
  }
  if (h.cancel_at) return 'cancelled';
  if (fromFile && p.accepted === 0) return 'failed';
  if (expiresAt !== undefined && num(h.done_at) > expiresAt) return 'expired';
  return 'completed';
}

/**
 * The batch record from its hash (lua/batch-finalize-4.lua writes it, batch-finished-3.lua counts
 * into it; a file batch's `oa_*` fields are written before its lines are read), or undefined
 * while there is no such batch.
 */
export function toBatchRecord(
  batchId: string,
  h: Record<string, string>,
  now = Date.now(),
): BatchRecord | undefined {
  if (!h.fp && !h.oa_file) return undefined;
  const accepted = num(h.accepted);
  const [succeeded, failed, canceled] = [num(h.succeeded), num(h.failed), num(h.canceled)];
  const finished = succeeded + failed + canceled;
  const p = {
    accepted,
    finished,
    rejected: num(h.rejected),
    failedJobs: failed + canceled,
    finalized: !!h.fp,
  };
  const status = statusOf(h, p, now);
  const final = ['completed', 'failed', 'cancelled', 'expired'].includes(status);
  const files = batchFileIds(batchId);
  const doneAt = secondsOrNull(h.done_at);
  const createdMs = h.oa_created ? num(h.oa_created) : num(h.created_at);
  return {
    id: batchId,
    object: 'batch',
    status,
    counts: {
      total: num(h.total),
      accepted,
      rejected: p.rejected,
      queued_or_running: Math.max(0, accepted - finished),
      succeeded,
      failed,
      canceled,
    },
    cost: costFromNanos(num(h.cost_nanos)),
    created_at: new Date(createdMs).toISOString(),
    webhook: h.webhook_url ? { url: h.webhook_url } : null,
    request_counts: { total: num(h.total), completed: succeeded, failed: p.failedJobs + p.rejected },
    endpoint: h.oa_file ? FILE_BATCH_ENDPOINT : null,
    input_file_id: h.oa_file ?? null,
    output_file_id: final && status !== 'failed' ? files.output : null,
    error_file_id: final && p.failedJobs + p.rejected > 0 ? files.errors : null,
    completion_window: h.oa_window ?? null,
    metadata: h.oa_meta ? (JSON.parse(h.oa_meta) as Record<string, string>) : null,
    in_progress_at: h.fp ? Math.floor(num(h.created_at) / 1000) : null,
    expires_at: secondsOrNull(h.oa_expires),
    finalizing_at: null,
    completed_at: status === 'completed' ? doneAt : null,
    failed_at: status === 'failed' ? doneAt : null,
    expired_at: status === 'expired' ? (doneAt ?? secondsOrNull(h.oa_expires)) : null,
    cancelling_at: secondsOrNull(h.cancel_at),
    cancelled_at: status === 'cancelled' ? doneAt : null,
    errors: null,
  };
}
