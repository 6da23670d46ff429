import { ERROR_CATALOG, isErrorCode, type LineRejection } from '@switchyard/contracts';
import type { BatchRecord, BatchResultLine, BatchStore } from '@switchyard/batches';
import { chatCompletion } from './chat-shapes.ts';
import { openAiError } from './openai-errors.ts';

/** Lines read from Redis per page when writing an output or error file. */
const PAGE = 200;

/** One line of an OpenAI batch output or error file. */
export interface BatchOutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string; line?: number } | null;
}

/** A succeeded job as OpenAI writes it to the output file: the chat.completion as `body`. */
function outputLine(batch: BatchRecord, r: BatchResultLine): BatchOutputLine {
  const body = chatCompletion({ id: r.job_id, created_at: batch.created_at, result: r.result });
  return {
    id: `batch_req_${r.job_id}`,
    custom_id: r.custom_id,
    response: { status_code: 200, request_id: r.job_id, body },
    error: null,
  };
}

/**
 * A job that did not succeed, as OpenAI writes it to the error file: a failed request carries the
 * status and error body a direct call would have answered; a canceled or expired one, only `error`.
 */
function errorLine(r: BatchResultLine): BatchOutputLine {
  const code = r.error?.code ?? (r.status === 'canceled' ? 'canceled' : 'internal_job_error');
  const message = r.error?.message ?? `the request was ${r.status}`;
  const base = { id: `batch_req_${r.job_id}`, custom_id: r.custom_id };
  if (r.status !== 'failed') return { ...base, response: null, error: { code, message } };
  const status = isErrorCode(code) ? ERROR_CATALOG[code].status : 500;
  const { body } = openAiError(code, message);
  return { ...base, response: { status_code: status, request_id: r.job_id, body }, error: null };
}

/** A line refused when the batch was created (bad JSON, bad fields, duplicate custom_id...). */
function rejectedLine(batchId: string, r: LineRejection): BatchOutputLine {
  const message = r.errors.map((e) => `${e.path}: ${e.message}`).join('; ') || r.code;
  return {
    id: `batch_req_${batchId}_line_${r.line}`,
    custom_id: r.custom_id,
    response: null,
    error: { code: r.code, message, line: r.line },
  };
}

const NOT_SUCCEEDED = new Set(['failed', 'canceled', 'expired']);

/**
 * The content of a batch's output file (its succeeded requests) or error file (its rejected lines,
 * then its failed, canceled or expired requests) as JSONL text, a page at a time: produced on read
 * from the batch's results, never stored twice.
 */
export async function* batchFileLines(
  batches: BatchStore,
  tenantId: string,
  batch: BatchRecord,
  kind: 'output' | 'errors',
): AsyncGenerator<string> {
  const toText = (lines: BatchOutputLine[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
  if (kind === 'errors') {
    for (let from = 0; ; from += PAGE) {
      const page = await batches.rejectedPage(tenantId, batch.id, from, PAGE);
      if (page.length) yield toText(page.map((r) => rejectedLine(batch.id, r)));
      if (page.length < PAGE) break;
    }
  }
  for (let from = 0; ; from += PAGE) {
    const page = await batches.resultsPage(tenantId, batch.id, from, PAGE);
    const lines =
      kind === 'output'
        ? page.filter((r) => r.status === 'succeeded').map((r) => outputLine(batch, r))
        : page.filter((r) => NOT_SUCCEEDED.has(r.status)).map(errorLine);
    if (lines.length) yield toText(lines);
    if (page.length < PAGE) return;
  }
}
