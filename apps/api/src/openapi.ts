import { ERROR_CATALOG } from '@switchyard/contracts';
import { z } from 'zod';
import './openai/chat-body.ts'; // registers ChatCompletionsRequest in the schema registry
import './anthropic/messages-body.ts'; // registers MessagesRequest
import './batches/file-batch.ts'; // registers FileBatchRequest
import { adminPaths } from './openapi-doc/admin-paths.ts';
import { batchesPaths } from './openapi-doc/batches-paths.ts';
import { filesPaths } from './openapi-doc/files-paths.ts';
import { jobsPaths } from './openapi-doc/jobs-paths.ts';
import { openaiPaths } from './openapi-doc/openai-paths.ts';
import { opsPaths } from './openapi-doc/ops-paths.ts';
import { json } from './openapi-doc/shared.ts';

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
    paths: { ...jobsPaths, ...openaiPaths, ...batchesPaths, ...filesPaths, ...opsPaths, ...adminPaths },
  };
}
