import { costFromNanos, type Cost, type JobRecord, type JobStatus } from '@switchyard/contracts';

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

/** One line of `GET /v1/batches/{id}/results`. A job past its retention reads `expired`. */
export type BatchResultLine = Pick<JobRecord, 'result' | 'error' | 'cost'> & {
  custom_id: string;
  job_id: string;
  status: JobStatus | 'expired';
};

const num = (v: string | undefined) => Number(v ?? 0);

/**
 * The batch record from its hash (lua/batch-finalize-4.lua writes it, batch-finished-3.lua counts
 * into it), or undefined while no request has finalized the batch.
 */
export function toBatchRecord(batchId: string, h: Record<string, string>): BatchRecord | undefined {
  if (!h.fp) return undefined;
  const accepted = num(h.accepted);
  const [succeeded, failed, canceled] = [num(h.succeeded), num(h.failed), num(h.canceled)];
  const finished = succeeded + failed + canceled;
  return {
    id: batchId,
    object: 'batch',
    status: finished >= accepted ? 'completed' : 'in_progress',
    counts: {
      total: num(h.total),
      accepted,
      rejected: num(h.rejected),
      queued_or_running: Math.max(0, accepted - finished),
      succeeded,
      failed,
      canceled,
    },
    cost: costFromNanos(num(h.cost_nanos)),
    created_at: new Date(num(h.created_at)).toISOString(),
    webhook: h.webhook_url ? { url: h.webhook_url } : null,
  };
}
