import multipart from '@fastify/multipart';
import type { Config } from '@switchyard/config';
import { SwitchyardError, type FileObject } from '@switchyard/contracts';
import { parseBatchFileId, type BatchStore, type FileStore } from '@switchyard/batches';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';
import { installOpenAiCompatibleErrors } from '../errors.ts';
import { batchFileLines } from '../openai/batch-output.ts';

export interface FileRoutesDeps {
  config: Config;
  files: FileStore;
  batches: BatchStore;
  auth: AuthDeps;
}

type IdParams = { Params: { id: string } };
type ListQuery = { Querystring: { after?: string; limit?: string; purpose?: string } };
type IdRequest = FastifyRequest<IdParams>;
type ListRequest = FastifyRequest<ListQuery>;

const MAX_FILES_LISTED = 10_000;

/**
 * OpenAI's Files API (`/v1/files`) for batch input: uploads are streamed into the FileStore
 * (compressed, capped, never held whole); a batch's output and error files are read from its
 * results under stable ids (`file-<batch id>-output|errors`). A tenant sees only its own files.
 */
export function registerFileRoutes(app: FastifyInstance, deps: FileRoutesDeps): void {
  const read = { preHandler: requireScope('jobs:read', deps.auth) };
  const write = { preHandler: requireScope('jobs:write', deps.auth) };
  void app.register(async (scope) => {
    installOpenAiCompatibleErrors(scope);
    // The byte cap is the FileStore's (file_too_large); busboy's own limit only backs it up.
    await scope.register(multipart, {
      limits: { fileSize: deps.config.files.maxBytes + 1, files: 1, fields: 8, parts: 10, fieldSize: 1024 },
    });
    scope.post('/v1/files', { onRequest: write.preHandler }, (req, reply) => upload(deps, req, reply));
    scope.get<ListQuery>('/v1/files', read, (req) => listFiles(deps, req));
    scope.get<IdParams>('/v1/files/:id', read, (req) => findFile(deps, req));
    scope.get<IdParams>('/v1/files/:id/content', read, (req, reply) => sendContent(deps, req, reply));
    scope.delete<IdParams>('/v1/files/:id', write, async (req) => {
      const id = req.params.id;
      if (parseBatchFileId(id)) {
        throw new SwitchyardError('validation_failed', 'a batch output file lives as long as its batch', {
          errors: [{ path: 'id', message: 'batch output and error files cannot be deleted' }],
        });
      }
      if (!(await deps.files.delete(tenantOf(req), id)))
        throw new SwitchyardError('not_found', `no file ${id}`);
      return { id, object: 'file', deleted: true };
    });
  });
}

/** `POST /v1/files` (multipart: `file`, `purpose=batch`). */
async function upload(deps: FileRoutesDeps, req: FastifyRequest, reply: FastifyReply) {
  const tenantId = tenantOf(req);
  let file: FileObject | undefined;
  let purpose: unknown;
  for await (const part of req.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === 'purpose') purpose = part.value;
      continue;
    }
    if (part.fieldname !== 'file' || file) {
      part.file.resume();
      throw new SwitchyardError('validation_failed', 'send exactly one file, in the field "file"', {
        errors: [{ path: part.fieldname, message: 'unexpected file' }],
      });
    }
    file = await deps.files.put(tenantId, part.file, {
      filename: part.filename || 'file.jsonl',
      purpose: 'batch',
    });
  }
  if (!file) {
    throw new SwitchyardError('validation_failed', 'the upload has no file', {
      errors: [{ path: 'file', message: 'required' }],
    });
  }
  if (purpose !== 'batch') {
    await deps.files.delete(tenantId, file.id);
    throw new SwitchyardError('validation_failed', 'purpose must be "batch"', {
      errors: [{ path: 'purpose', message: 'only "batch" files are accepted' }],
    });
  }
  req.log.info({ fileId: file.id, bytes: file.bytes }, 'file stored');
  return reply.code(200).send(file);
}

/** A batch's output or error file, once the batch names it. */
async function batchFile(deps: FileRoutesDeps, tenantId: string, id: string) {
  const ref = parseBatchFileId(id);
  if (!ref) return undefined;
  const batch = await deps.batches.get(tenantId, ref.batchId);
  const named = ref.kind === 'output' ? batch?.output_file_id : batch?.error_file_id;
  if (!batch || named !== id) return undefined;
  const created = Math.floor(Date.parse(batch.created_at) / 1000);
  const file: FileObject = {
    id,
    object: 'file',
    // Produced on read from the batch's results: its size is known once read.
    bytes: 0,
    created_at: batch.completed_at ?? batch.cancelled_at ?? batch.expired_at ?? created,
    expires_at: null,
    filename: `${batch.id}_${ref.kind === 'output' ? 'output' : 'error'}.jsonl`,
    purpose: 'batch_output',
    status: 'processed',
  };
  return { file, batch, kind: ref.kind };
}

async function findFile(deps: FileRoutesDeps, req: IdRequest): Promise<FileObject> {
  const tenantId = tenantOf(req);
  const found = (await batchFile(deps, tenantId, req.params.id))?.file;
  const file = found ?? (await deps.files.get(tenantId, req.params.id));
  if (!file) throw new SwitchyardError('not_found', `no file ${req.params.id}`);
  const { lines: _, ...rest } = file as FileObject & { lines?: number };
  return rest;
}

/** `GET /v1/files/{id}/content`: the bytes, streamed (uploads decompressed, batch files produced). */
async function sendContent(deps: FileRoutesDeps, req: IdRequest, reply: FastifyReply) {
  const tenantId = tenantOf(req);
  const id = req.params.id;
  const fromBatch = await batchFile(deps, tenantId, id);
  let body: Readable;
  if (fromBatch) {
    body = Readable.from(batchFileLines(deps.batches, tenantId, fromBatch.batch, fromBatch.kind), {
      highWaterMark: 1,
    });
  } else {
    if (!(await deps.files.get(tenantId, id))) throw new SwitchyardError('not_found', `no file ${id}`);
    body = Readable.from(deps.files.content(tenantId, id), { highWaterMark: 1 });
  }
  body.on('error', (err) => req.log.warn({ err, fileId: id }, 'file content stream failed'));
  return reply.code(200).type('application/octet-stream').send(body);
}

/** `GET /v1/files`: the tenant's uploaded files, newest first (`after`, `limit`, `purpose`). */
async function listFiles(deps: FileRoutesDeps, req: ListRequest) {
  const { after, limit: rawLimit, purpose } = req.query;
  const limit = rawLimit === undefined ? MAX_FILES_LISTED : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FILES_LISTED) {
    throw new SwitchyardError('validation_failed', `limit must be an integer from 1 to ${MAX_FILES_LISTED}`, {
      errors: [{ path: 'limit', message: `expected 1–${MAX_FILES_LISTED}` }],
    });
  }
  if (purpose !== undefined && purpose !== 'batch') return { object: 'list', data: [], has_more: false };
  const page = await deps.files.list(tenantOf(req), { after, limit });
  return {
    object: 'list',
    data: page.data,
    first_id: page.data[0]?.id ?? null,
    last_id: page.data.at(-1)?.id ?? null,
    has_more: page.has_more,
  };
}
