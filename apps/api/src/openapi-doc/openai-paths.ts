import { json, idempotencyKeyHeader } from './shared.ts';

/** The OpenAI-compatible surface. */
export const openaiPaths = {
  '/v1/models': {
    get: {
      summary: 'Models this broker serves',
      responses: { '200': { description: 'OpenAI-style model list' } },
    },
  },
  '/v1/chat/completions': {
    post: {
      summary:
        'OpenAI-compatible chat completion (interactive lane); `stream: true` answers with server-sent events',
      parameters: [idempotencyKeyHeader],
      requestBody: { required: true, content: json('ChatCompletionsRequest') },
      responses: {
        '200': {
          description: 'An OpenAI chat.completion object, or a text/event-stream of chat.completion.chunk',
        },
        default: {
          description: 'An OpenAI-style error body `{ error: { message, type, param, code } }`',
        },
      },
    },
  },
  '/v1/messages': {
    post: {
      summary:
        'Anthropic-compatible Messages API (interactive lane) on any configured model; `stream: true` answers with Messages API events',
      parameters: [idempotencyKeyHeader],
      requestBody: { required: true, content: json('MessagesRequest') },
      responses: {
        '200': { description: 'An Anthropic message object, or a text/event-stream of Messages API events' },
        default: {
          description: 'An Anthropic-style error body `{ type: "error", error: { type, message, code } }`',
        },
      },
    },
  },
};
