import { errors, idParam, idempotencyKeyHeader, ref } from './shared.ts';

const batchView = {
  description:
    'The batch: Switchyard’s counts, cost and webhook with OpenAI’s Batch fields (status, request_counts, ' +
    'input/output/error file ids, endpoint, completion_window, metadata, unix timestamps). `created_at` is ' +
    'unix seconds for a batch created from a file, an ISO string otherwise (docs/adr/0014).',
};

/** Batches: submit, progress, results, cancel, list. */
export const batchesPaths = {
  '/v1/batches': {
    get: {
      summary:
        "The tenant's batches, newest first (OpenAI's list: `after`, `limit`, `has_more`, `first_id`, `last_id`)",
      parameters: [
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'A batch id (cursor)' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      ],
      responses: { '200': { description: 'An OpenAI list of batches' }, ...errors(400, 401, 403) },
    },
    post: {
      summary:
        'Submit many jobs as a JSON array or NDJSON (each with a custom_id; OpenAI Batch lines accepted), ' +
        'or, in OpenAI’s form, a JSON object naming an uploaded file (`input_file_id`)',
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { oneOf: [{ type: 'array' }, ref('FileBatchRequest')] } },
          'application/x-ndjson': { schema: { type: 'string' } },
        },
      },
      parameters: [
        idempotencyKeyHeader,
        {
          name: 'webhook_url',
          in: 'query',
          schema: { type: 'string', format: 'uri', maxLength: 2048 },
          description: 'Receives one signed `batch.completed` event when every job has finished',
        },
      ],
      responses: {
        '200': {
          description: 'A batch created from a file (validated, enqueued), or one with nothing to run',
        },
        '202': { description: 'The batch, with rejected lines' },
        ...errors(400, 401, 403, 404, 413, 415, 422, 429, 503),
      },
    },
  },
  '/v1/batches/{id}': {
    get: {
      summary: 'Batch progress and cost',
      parameters: [idParam],
      responses: { '200': batchView, ...errors(401, 403, 404) },
    },
  },
  '/v1/batches/{id}/cancel': {
    post: {
      summary: 'Cancel the batch’s unfinished jobs: `cancelling` until they stop, then `cancelled`',
      parameters: [idParam],
      responses: { '200': batchView, ...errors(401, 403, 404, 409) },
    },
  },
  '/v1/batches/{id}/results': {
    get: {
      summary: 'One NDJSON line per job, in line order (streamed)',
      parameters: [
        idParam,
        {
          name: 'offset',
          in: 'query',
          required: false,
          description: 'Skip the first N result lines (to resume a download)',
          schema: { type: 'integer', minimum: 0 },
        },
      ],
      responses: { '200': { description: 'application/x-ndjson' }, ...errors(401, 403, 404) },
    },
  },
};
