import { JobSpecSchema } from '@switchyard/contracts';
import { fingerprint } from '@switchyard/jobs';
import { createHash } from 'node:crypto';
import type { BatchLine, BatchSummary } from './batch-writer.ts';

/**
 * For tests: batch lines from line values, as the API's intake (apps/api/src/batches) makes them
 * from a body: a `custom_id` and a job spec (`lane` defaulting to `batch`). A value without both
 * is counted as rejected. The summary's fingerprint hashes every line's outcome, in order.
 */
export function batchLinesOf(values: readonly unknown[]): { lines: BatchLine[]; summary: BatchSummary } {
  const lines: BatchLine[] = [];
  const hash = createHash('sha256');
  let rejected = 0;
  values.forEach((value, i) => {
    const { custom_id: customId, ...rest } = value as Record<string, unknown>;
    const spec = JobSpecSchema.safeParse(rest);
    if (typeof customId !== 'string' || !spec.success) {
      rejected++;
      hash.update(`r ${i + 1}\n`);
      return;
    }
    const fp = fingerprint(spec.data);
    lines.push({ customId, spec: spec.data, fingerprint: fp });
    hash.update(`a ${customId.length}:${customId} ${fp}\n`);
  });
  const summary = { total: values.length, accepted: lines.length, rejected, fingerprint: hash.digest('hex') };
  return { lines, summary };
}
