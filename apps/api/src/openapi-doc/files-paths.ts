import { errors, idParam } from './shared.ts';

const fileObject = {
  description:
    'An OpenAI File object: `{ id, object: "file", bytes, created_at, expires_at, filename, purpose, status }`',
};
const openAiNote =
  'Errors are problem+json with OpenAI’s `error` object as an extra member, so OpenAI SDKs raise their usual exceptions.';

/** OpenAI's Files API, for batch input files and batch output/error files. */
export const filesPaths = {
  '/v1/files': {
    post: {
      summary:
        'Upload a batch input file (multipart: `file`, `purpose=batch`), streamed and stored compressed',
      description: `Caps: \`files.maxBytes\` (413 file_too_large), \`files.maxLines\` (413 file_too_many_lines). ${openAiNote}`,
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['file', 'purpose'],
              properties: { file: { type: 'string', format: 'binary' }, purpose: { const: 'batch' } },
            },
          },
        },
      },
      responses: { '200': fileObject, ...errors(400, 401, 403, 413, 415, 429, 503) },
    },
    get: {
      summary: "The tenant's uploaded files, newest first",
      parameters: [
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'A file id (cursor)' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10_000 } },
        { name: 'purpose', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'An OpenAI list of File objects' }, ...errors(400, 401, 403) },
    },
  },
  '/v1/files/{id}': {
    get: {
      summary: 'An uploaded file, or a batch output/error file (`file-<batch id>-output|errors`)',
      parameters: [idParam],
      responses: { '200': fileObject, ...errors(401, 403, 404) },
    },
    delete: {
      summary: 'Delete an uploaded file (batch output files live as long as their batch)',
      parameters: [idParam],
      responses: {
        '200': { description: '`{ id, object: "file", deleted: true }`' },
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/v1/files/{id}/content': {
    get: {
      summary: "The file's bytes, streamed; a batch output/error file is one JSONL line per request",
      parameters: [idParam],
      responses: { '200': { description: 'application/octet-stream' }, ...errors(401, 403, 404) },
    },
  },
};
