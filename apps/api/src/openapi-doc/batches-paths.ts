import { errors, idParam, idempotencyKeyHeader } from './shared.ts';

/** Batches: submit, progress, results. */
export const batchesPaths = {
  '/v1/batches': {
    post: {
      summary:
        'Submit many jobs as a JSON array or NDJSON (each with a custom_id; OpenAI Batch lines accepted)',
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
        '202': { description: 'The batch, with rejected lines' },
        ...errors(400, 401, 403, 413, 415, 422, 429, 503),
      },
    },
  },
  '/v1/batches/{id}': {
    get: {
      summary: 'Batch progress and cost',
      parameters: [idParam],
      responses: { '200': { description: 'The batch' }, ...errors(401, 403, 404) },
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
