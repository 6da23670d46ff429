import { costFromNanos, type BatchRecord } from '@switchyard/contracts';

export type { BatchJobOutcome, BatchRecord, BatchResultLine } from '@switchyard/contracts';

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
