import { json, errors, idParam, preferHeader, idempotencyKeyHeader } from './shared.ts';

/** Jobs: submit, read, cancel, follow. */
export const jobsPaths = {
  '/v1/jobs': {
    post: {
      summary: 'Submit a job',
      parameters: [idempotencyKeyHeader, preferHeader],
      requestBody: { required: true, content: json('JobSpec') },
      responses: {
        '200': { description: 'The job finished within Prefer: wait', content: json('Job') },
        '202': { description: 'Accepted and queued; Location names the job', content: json('Job') },
        ...errors(400, 401, 403, 413, 415, 422, 429, 503),
      },
    },
  },
  '/v1/jobs/{id}': {
    get: {
      summary: 'Read a job',
      parameters: [idParam, preferHeader],
      responses: {
        '200': { description: 'The job', content: json('Job') },
        ...errors(401, 403, 404, 503),
      },
    },
    delete: {
      summary: 'Cancel a job that has not finished',
      parameters: [idParam],
      responses: {
        '200': { description: 'The canceled job', content: json('Job') },
        ...errors(401, 403, 404, 409, 503),
      },
    },
  },
  '/v1/jobs/{id}/events': {
    get: {
      summary: "Server-sent events of the job's status changes (each `status` event carries the job)",
      parameters: [idParam],
      responses: { '200': { description: 'text/event-stream' }, ...errors(401, 403, 404, 503) },
    },
  },
};
