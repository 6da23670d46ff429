import { ERROR_CATALOG } from '@switchyard/contracts';
import { z } from 'zod';
import './openai/chat-body.ts'; // registers ChatCompletionsRequest in the schema registry

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const problem = { 'application/problem+json': { schema: ref('Problem') } };
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: 'Problem details', content: problem }]));

/** Component schemas generated from the zod schemas that carry `.meta({ id })`. */
function components(): Record<string, unknown> {
  const out = z.toJSONSchema(z.globalRegistry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: 'input',
    unrepresentable: 'any',
  });
  return Object.fromEntries(
    Object.entries(out.schemas).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const preferHeader = {
  name: 'Prefer',
  in: 'header',
  schema: { type: 'string', example: 'wait=10' },
  description: 'RFC 7240 `wait=N`: hold the response up to N seconds for the job to finish',
};

const webhookHeaders = {
  'Switchyard-Signature': {
    schema: { type: 'string', example: 't=1700000000,v1=5f3c…' },
    description: 'HMAC-SHA256 of `<t>.<raw body>` keyed with the tenant secret, hex (docs/webhooks.md)',
  },
  'Switchyard-Event-Id': { schema: { type: 'string' }, description: 'Dedupe on it: retries repeat it' },
};
const webhook = (summary: string, schema: string) => ({
  post: {
    summary,
    parameters: Object.entries(webhookHeaders).map(([name, h]) => ({
      name,
      in: 'header',
      required: true,
      ...h,
    })),
    requestBody: { required: true, content: json(schema) },
    responses: { '2XX': { description: 'Delivered; anything else is retried with backoff' } },
  },
});

/** The OpenAPI 3.1 document served at /docs. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchyard',
      version: '1',
      description: `Queue-based broker for LLM completions and web scrapes. Error codes: ${Object.keys(ERROR_CATALOG).join(', ')}.`,
    },
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    webhooks: {
      'job.finished': webhook(
        'A job with a `webhook` ended (succeeded, failed or canceled)',
        'JobFinishedEvent',
      ),
      'batch.completed': webhook(
        'Every job of a batch posted with `?webhook_url=` has finished',
        'BatchCompletedEvent',
      ),
    },
    paths: {
      '/v1/jobs': {
        post: {
          summary: 'Submit a job',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } },
            preferHeader,
          ],
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
      '/v1/models': {
        get: {
          summary: 'Models this broker serves',
          responses: { '200': { description: 'OpenAI-style model list' } },
        },
      },
      '/v1/admin/tenants': {
        post: {
          summary: 'Create a tenant (admin)',
          requestBody: { required: true, content: json('CreateTenant') },
          responses: {
            '201': { description: 'Created', content: json('Tenant') },
            ...errors(400, 401, 403, 409, 503),
          },
        },
      },
      '/v1/admin/tenants/{id}': {
        get: {
          summary: 'Read a tenant (admin)',
          parameters: [idParam],
          responses: {
            '200': { description: 'The tenant', content: json('Tenant') },
            ...errors(401, 403, 404),
          },
        },
      },
      '/v1/admin/tenants/{id}/keys': {
        post: {
          summary: 'Create an API key for a tenant (admin); the key is shown once',
          parameters: [idParam],
          requestBody: { content: json('CreateKey') },
          responses: {
            '201': { description: 'Created', content: json('ApiKeyCreated') },
            ...errors(400, 401, 403, 404, 503),
          },
        },
      },
      '/v1/admin/tenants/{id}/webhook-secret': {
        post: {
          summary: "Create or rotate the tenant's webhook signing secret (admin); shown once",
          parameters: [idParam],
          responses: {
            '201': {
              description: 'Created; it replaces any earlier secret',
              content: json('WebhookSecretCreated'),
            },
            ...errors(401, 403, 404, 503),
          },
        },
      },
      '/v1/admin/tenants/{id}/keys/{keyId}': {
        delete: {
          summary: 'Revoke an API key (admin)',
          parameters: [idParam, { name: 'keyId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'Revoked' }, ...errors(401, 403, 404, 503) },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          summary: "Server-sent events of the job's status changes (each `status` event carries the job)",
          parameters: [idParam],
          responses: { '200': { description: 'text/event-stream' }, ...errors(401, 403, 404, 503) },
        },
      },
      '/v1/chat/completions': {
        post: {
          summary:
            'OpenAI-compatible chat completion (interactive lane); `stream: true` answers with server-sent events',
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } }],
          requestBody: { required: true, content: json('ChatCompletionsRequest') },
          responses: {
            '200': {
              description:
                'An OpenAI chat.completion object, or a text/event-stream of chat.completion.chunk',
            },
            default: {
              description: 'An OpenAI-style error body `{ error: { message, type, param, code } }`',
            },
          },
        },
      },
      '/v1/batches': {
        post: {
          summary:
            'Submit many jobs as a JSON array or NDJSON (each with a custom_id; OpenAI Batch lines accepted)',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } },
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
          parameters: [idParam],
          responses: { '200': { description: 'application/x-ndjson' }, ...errors(401, 403, 404) },
        },
      },
      '/v1/usage': {
        get: {
          summary: "The caller's costs grouped by model, day or outcome, with the share spent on retries",
          parameters: [
            { name: 'group_by', in: 'query', schema: { type: 'string', enum: ['model', 'day', 'outcome'] } },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
          ],
          responses: { '200': { description: 'Usage report' }, ...errors(400, 401, 403, 503) },
        },
      },
      '/v1/admin/proxies': {
        get: {
          summary: 'The proxy pool with health (admin; `?format=table` for text)',
          responses: { '200': { description: 'Pool' } },
        },
        post: {
          summary: 'Add or update a proxy (admin)',
          responses: { '200': { description: 'Updated' }, '201': { description: 'Created' } },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness (Redis reachable)',
          security: [],
          responses: { '200': { description: 'Ready' }, ...errors(503) },
        },
      },
    },
  };
}
