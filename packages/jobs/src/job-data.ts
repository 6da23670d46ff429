import type { JobResult, JobSpec } from '@switchyard/contracts';

/**
 * What a BullMQ job carries. Versioned so a rolling deploy can read older jobs. Every byte here is
 * kept in Redis for as long as the job is retained (`jobs.retentionSeconds`), so it holds only what
 * a reader uses: the spec's fingerprint, which decides Idempotency-Key replays, lives in the key's
 * claim record instead (older jobs still carry a `fingerprint` field; nothing reads it).
 */
export interface JobData {
  v: 1;
  tenantId: string;
  spec: JobSpec;
  submittedAt: number;
  /** Epoch ms after which no attempt starts and no retry is scheduled. */
  deadline: number;
  /** Set on jobs submitted through `POST /v1/batches`. */
  batch?: { id: string; customId: string };
  /** Set by `POST /v1/chat/completions` with `stream: true`: the worker relays deltas as they arrive. */
  stream?: boolean;
  /** W3C trace context of the request that submitted it (absent when tracing is off). */
  trace?: Record<string, string>;
}

/** What a succeeded job returns (BullMQ `returnvalue`). */
export interface JobReturn {
  result: JobResult;
  /** Total cost of every attempt of the job, failed ones included, in nano-USD (from the ledger). */
  costNanos: number;
  /**
   * The attempt that succeeded, so a waiter can answer from the completion event without reading
   * the job back (absent from jobs finished by older workers).
   */
  attempts?: number;
}

/**
 * BullMQ keeps only an error's message, so a job failure is stored as `code: message` and parsed
 * back with `parseFailure`. `code` is always a catalog code.
 */
export function formatFailure(code: string, message: string): string {
  return `${code}: ${message}`;
}

export function parseFailure(reason: string | undefined): { code: string; message: string } {
  if (!reason) return { code: 'internal_job_error', message: 'the job failed without a reason' };
  const m = /^([a-z_]+): ([\s\S]*)$/.exec(reason);
  if (m?.[1] && m[2] !== undefined) return { code: m[1], message: m[2] };
  return { code: 'internal_job_error', message: reason };
}
