import type { Config } from '@switchyard/config';
import { SwitchyardError, type BatchRecord } from '@switchyard/contracts';
import {
  FILE_BATCH_ENDPOINT,
  type BatchStore,
  type BatchWriter,
  type FileBatchMeta,
  type FileStore,
} from '@switchyard/batches';
import { z } from 'zod';
import { parseBody } from '../validation.ts';
import { splitLines, type IntakeSummary, type RawLine } from './batch-lines.ts';

/** OpenAI's metadata limits: 16 pairs, keys up to 64 characters, values up to 512. */
const MetadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys');

/** The body of `POST /v1/batches` in OpenAI's Batch API form (told apart by `input_file_id`). */
export const FileBatchBodySchema = z
  .object({
    input_file_id: z.string().min(1).max(128),
    endpoint: z.literal(FILE_BATCH_ENDPOINT, { error: `only "${FILE_BATCH_ENDPOINT}" is supported` }),
    /** OpenAI accepts `24h`; any whole number of hours up to 24 is taken here. */
    completion_window: z.string().regex(/^([1-9]|1\d|2[0-4])h$/, 'a whole number of hours from 1h to 24h'),
    metadata: MetadataSchema.nullable().optional(),
  })
  .meta({ id: 'FileBatchRequest' });

/** A JSON object naming an uploaded file: OpenAI's form of `POST /v1/batches`. */
export const isFileBatchBody = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && 'input_file_id' in body;

export interface FileBatchDeps {
  config: Config;
  files: FileStore;
  batches: BatchStore;
  /** Checks the tenant's limits (and the webhook); true when the tenant may name webhooks. */
  admit(tenantId: string, webhookUrl: string | undefined): Promise<boolean>;
  /** Runs the lines through the batch intake into the writer (`openAiOnly`, the file caps). */
  receive(
    lines: AsyncIterable<RawLine>,
    webhooksAllowed: boolean,
    writer: BatchWriter,
  ): Promise<IntakeSummary>;
}

export interface FileBatchRequest {
  tenantId: string;
  body: unknown;
  idempotencyKey?: string;
  webhookUrl?: string;
}

/**
 * Creates a batch from an uploaded file: the batch is recorded (`validating`), the file is read
 * line by line through the same intake and writer as any batch (invalid lines are kept for the
 * error file), and the batch is finalized before the answer. `completion_window` bounds every
 * line's deadline.
 */
export async function createFileBatch(
  deps: FileBatchDeps,
  req: FileBatchRequest,
): Promise<{ batch: BatchRecord; replayed: boolean }> {
  const { tenantId } = req;
  const body = parseBody(FileBatchBodySchema, req.body);
  const file = await deps.files.get(tenantId, body.input_file_id);
  if (!file) {
    throw new SwitchyardError('not_found', `no file ${body.input_file_id}`, {
      errors: [{ path: 'input_file_id', message: 'no such file' }],
    });
  }
  const webhooksAllowed = await deps.admit(tenantId, req.webhookUrl);
  const createdAt = Date.now();
  const hours = Number(body.completion_window.slice(0, -1));
  const meta: FileBatchMeta = {
    inputFileId: file.id,
    completionWindow: body.completion_window,
    metadata: body.metadata ?? null,
    createdAt,
    expiresAt: createdAt + hours * 3_600_000,
  };
  const writer = await deps.batches.open(tenantId, {
    idempotencyKey: req.idempotencyKey,
    webhookUrl: req.webhookUrl,
    deadlineAt: meta.expiresAt,
  });
  if (!writer.isReplay) await deps.batches.markFromFile(tenantId, writer.batchId, meta);
  const limits = { maxBytes: deps.config.files.maxBytes, maxLineBytes: deps.config.api.bodyLimitBytes };
  const lines = splitLines(deps.files.content(tenantId, file.id), limits);
  const summary = await deps.receive(lines, webhooksAllowed, writer);
  if (!writer.isReplay)
    await deps.batches.storeRejections(tenantId, writer.batchId, meta, summary.rejections);
  const { batch, replayed } = await writer.finish(summary);
  // Cancelled while its lines were being read: the jobs enqueued since are cancelled now.
  if (batch.cancelling_at !== null && batch.status === 'cancelling') {
    return { batch: (await deps.batches.cancel(tenantId, batch.id)) ?? batch, replayed };
  }
  return { batch, replayed };
}
