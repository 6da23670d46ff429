import type { Config } from '@switchyard/config';
import { isBatchFinished, SwitchyardError, viewOfBatch } from '@switchyard/contracts';
import type { TenantLoad } from '@switchyard/admission';
import type { BatchResultLine, BatchStore, BatchWriter, FileStore } from '@switchyard/batches';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';
import {
  arrayLines,
  BatchIntake,
  splitLines,
  type BatchIntakeOptions,
  type IntakeSummary,
  type RawLine,
} from '../batches/batch-lines.ts';
import { createFileBatch, isFileBatchBody } from '../batches/file-batch.ts';
import { installOpenAiCompatibleErrors } from '../errors.ts';
import { registerBatchLifecycleRoutes } from './batch-lifecycle.ts';
import { parseIdempotencyKey } from '../headers.ts';
import { TargetAdmission } from '../target-admission.ts';
import type { TenantStore } from '../tenancy/tenant-store.ts';
import { parseWebhookUrlParam, webhookSecretMissing } from '../webhook-admission.ts';

export interface BatchRoutesDeps {
  config: Config;
  batches: BatchStore;
  /** Uploaded files: the input of batches created in OpenAI's form (`input_file_id`). */
  files: FileStore;
  auth: AuthDeps;
  tenants: TenantStore;
  /** Per-tenant job limits, checked before a batch's body is read. */
  load: TenantLoad;
}

/** Limits of `POST /v1/batches` (docs/batches.md). */
export const BATCH_LIMITS = {
  /** NDJSON is read as a stream, so its cap is about abuse, not memory. */
  ndjsonBytes: 200 * 1024 * 1024,
  /** A JSON array is buffered and parsed whole by nature; NDJSON is the format for big batches. */
  jsonBytes: 32 * 1024 * 1024,
  maxLines: 50_000,
  /** Rejected lines listed in the response (all are counted). */
  maxRejectionsListed: 1_000,
} as const;

export const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl'];

/** Results are read a page at a time, sized so a page of big scrape bodies stays near this. */
const RESULTS_PAGE_BYTES = 8 * 1024 * 1024;
const RESULTS_PAGE_MIN = 10;
const RESULTS_PAGE_MAX = 200;

/** The lines of a body: NDJSON arrives as the raw request stream, a JSON array already parsed. */
function linesOf(body: unknown, maxLineBytes: number): AsyncIterable<RawLine> | Iterable<RawLine> {
  if (body instanceof Readable) {
    return splitLines(body as AsyncIterable<Buffer>, { maxBytes: BATCH_LIMITS.ndjsonBytes, maxLineBytes });
  }
  if (Array.isArray(body)) return arrayLines(body);
  throw new SwitchyardError(
    'validation_failed',
    'send a JSON array of batch lines (application/json) or one line per row (application/x-ndjson)',
    { errors: [{ path: '(root)', message: 'expected an array' }] },
  );
}

/** A body cut off by the client (or the network) is a bad request, not an internal error. */
async function* guarded(lines: AsyncIterable<RawLine> | Iterable<RawLine>): AsyncGenerator<RawLine> {
  try {
    yield* lines;
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    throw new SwitchyardError('validation_failed', 'the request body could not be read to its end', {
      cause: err,
    });
  }
}

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/** What the handlers share: the routes' deps and what is built from them once. */
interface BatchRoutes extends BatchRoutesDeps {
  knownModel: (name: string) => boolean;
  targets: TargetAdmission;
}

export function registerBatchRoutes(app: FastifyInstance, deps: BatchRoutesDeps): void {
  const routes: BatchRoutes = {
    ...deps,
    knownModel: (name) => Object.hasOwn(deps.config.models, name),
    targets: new TargetAdmission(deps.config),
  };
  const read = { preHandler: requireScope('jobs:read', deps.auth) };
  // Encapsulated so the NDJSON parser only exists on these routes.
  void app.register(async (scope) => {
    installOpenAiCompatibleErrors(scope);
    // NDJSON reaches the handler as the raw stream, read line by line: never buffered whole.
    scope.addContentTypeParser(NDJSON_TYPES, (req, payload, done) => {
      if (Number(req.headers['content-length']) > BATCH_LIMITS.ndjsonBytes) {
        const limit = `NDJSON batches are limited to ${BATCH_LIMITS.ndjsonBytes} bytes`;
        done(new SwitchyardError('payload_too_large', limit));
        return;
      }
      done(null, payload);
    });
    scope.post(
      '/v1/batches',
      // Authenticate before the body is read: no one uploads 200 MB without a key.
      { onRequest: requireScope('jobs:write', deps.auth), bodyLimit: BATCH_LIMITS.jsonBytes },
      (req, reply) => createBatch(routes, req, reply),
    );
    scope.get<{ Params: { id: string } }>('/v1/batches/:id', read, async (req, reply) =>
      reply.code(200).send(viewOfBatch(await findBatch(routes, req))),
    );
    registerBatchLifecycleRoutes(scope, { batches: deps.batches, auth: deps.auth });
    scope.get<{ Params: { id: string }; Querystring: { offset?: string } }>(
      '/v1/batches/:id/results',
      read,
      (req, reply) => sendResults(routes, req, reply),
    );
  });
}

/**
 * `POST /v1/batches`: admits the batch, reads its lines into a writer, finalizes it. A JSON object
 * naming an uploaded file (`input_file_id`) is OpenAI's form; an array or NDJSON is Switchyard's.
 */
async function createBatch(routes: BatchRoutes, req: FastifyRequest, reply: FastifyReply) {
  const { batches } = routes;
  const tenantId = tenantOf(req);
  const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
  const webhookUrl = parseWebhookUrlParam(req.query);
  if (isFileBatchBody(req.body)) {
    const deps = {
      ...routes,
      admit: (tenant: string, url: string | undefined) => admitBatch(routes, tenant, url),
      receive: (lines: AsyncIterable<RawLine>, allowed: boolean, writer: BatchWriter) =>
        receiveLines(routes, lines, allowed, writer, fileBatchLimits(routes)),
    };
    const { batch, replayed } = await createFileBatch(deps, {
      tenantId,
      body: req.body,
      idempotencyKey,
      webhookUrl,
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    req.log.info(
      { batchId: batch.id, total: batch.counts.total, fileId: batch.input_file_id },
      'batch accepted',
    );
    return reply.code(200).send(viewOfBatch(batch));
  }
  const webhooksAllowed = await admitBatch(routes, tenantId, webhookUrl);
  const lines = linesOf(req.body, routes.config.api.bodyLimitBytes);
  const writer = await batches.open(tenantId, { idempotencyKey, webhookUrl });
  const summary = await receiveLines(routes, lines, webhooksAllowed, writer);
  if (summary.total === 0) {
    throw new SwitchyardError('validation_failed', 'the batch has no lines', {
      errors: [{ path: '(root)', message: 'at least one line is required' }],
    });
  }
  const { batch, replayed } = await writer.finish(summary);
  if (replayed) void reply.header('idempotent-replayed', 'true');
  const done = isBatchFinished(batch.status);
  if (!done) void reply.header('location', `/v1/batches/${batch.id}`);
  req.log.info(
    { batchId: batch.id, total: summary.total, accepted: summary.accepted, replayed },
    'batch accepted',
  );
  return reply.code(done ? 200 : 202).send({
    ...viewOfBatch(batch),
    rejected_lines: summary.rejections,
    rejected_lines_truncated: summary.truncated,
  });
}

/**
 * Checks the tenant's job limits and the batch's webhook before the body is read; returns whether
 * the tenant may name webhooks (it has a signing secret). A batch that starts under the limits is
 * taken whole (up to maxLines), so the limits can be passed by at most one batch.
 */
async function admitBatch(routes: BatchRoutes, tenantId: string, webhookUrl: string | undefined) {
  const { load, tenants, targets } = routes;
  await load.admit(tenantId, [], Date.now());
  const webhooksAllowed = await tenants.hasWebhookSecret(tenantId);
  if (webhookUrl !== undefined && !webhooksAllowed) throw webhookSecretMissing('webhook_url');
  if (webhookUrl !== undefined) targets.checkWebhook(webhookUrl, 'webhook_url');
  return webhooksAllowed;
}

type IntakeLimits = Pick<BatchIntakeOptions, 'maxLines' | 'maxRejectionsListed' | 'openAiOnly'>;

/** A file batch takes OpenAI request lines only, and keeps every rejection for its error file. */
const fileBatchLimits = ({ config }: BatchRoutes): IntakeLimits => ({
  maxLines: config.files.maxLines,
  maxRejectionsListed: config.files.maxLines,
  openAiOnly: true,
});

/** Validates each line as it arrives and hands accepted ones to the writer, a chunk at a time. */
async function receiveLines(
  routes: BatchRoutes,
  lines: AsyncIterable<RawLine> | Iterable<RawLine>,
  webhooksAllowed: boolean,
  writer: BatchWriter,
  limits: IntakeLimits = BATCH_LIMITS,
): Promise<IntakeSummary> {
  const { knownModel, targets } = routes;
  const intake = new BatchIntake({
    knownModel,
    webhooksAllowed,
    targetRefusal: (spec) => targets.refusal(spec),
    ...limits,
  });
  for await (const raw of guarded(lines)) {
    const line = intake.take(raw);
    if (line && writer.add(line)) await writer.flush();
  }
  return intake.summary();
}

async function findBatch(routes: BatchRoutes, req: IdRequest) {
  const batch = await routes.batches.get(tenantOf(req), req.params.id);
  if (!batch) throw new SwitchyardError('not_found', `no batch ${req.params.id}`);
  return batch;
}

/** `?offset=N`: the results after the first N lines (a reader resuming a download). */
function parseOffset(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,9}$/.test(value)) {
    throw new SwitchyardError('validation_failed', 'offset must be a whole number of lines', {
      errors: [{ path: 'offset', message: 'expected an integer ≥ 0' }],
    });
  }
  return Number(value);
}

/** `GET /v1/batches/{id}/results`: NDJSON, one line per job in line order. */
async function sendResults(
  routes: BatchRoutes,
  req: FastifyRequest<{ Params: { id: string }; Querystring: { offset?: string } }>,
  reply: FastifyReply,
) {
  const offset = parseOffset(req.query.offset);
  const batch = await findBatch(routes, req);
  // One page buffered ahead at most: a slow reader holds the next read back.
  const pages = resultPages(routes, tenantOf(req), batch.id, offset);
  const body = Readable.from(pages, { highWaterMark: 1 });
  body.on('error', (err) => req.log.warn({ err, batchId: batch.id }, 'batch results stream failed'));
  return reply.code(200).type('application/x-ndjson').send(body);
}

/** The results as NDJSON text, a page at a time, pages sized to stay near RESULTS_PAGE_BYTES. */
async function* resultPages(
  routes: BatchRoutes,
  tenantId: string,
  batchId: string,
  from: number,
): AsyncGenerator<string> {
  let offset = from;
  let size = RESULTS_PAGE_MIN;
  for (;;) {
    const page: BatchResultLine[] = await routes.batches.resultsPage(tenantId, batchId, offset, size);
    if (!page.length) return;
    const text = page.map((line) => JSON.stringify(line)).join('\n') + '\n';
    yield text;
    if (page.length < size) return;
    offset += page.length;
    const perLine = Buffer.byteLength(text) / page.length;
    size = Math.max(RESULTS_PAGE_MIN, Math.min(RESULTS_PAGE_MAX, Math.floor(RESULTS_PAGE_BYTES / perLine)));
  }
}
