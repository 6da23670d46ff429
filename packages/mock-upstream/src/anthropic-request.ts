import type { ChatMessage } from './tokens.ts';

/** The parts of an Anthropic Messages request the mock acts on; everything else is ignored. */
export interface MessagesRequest {
  model: string;
  /** The system prompt first (role `system`), then the conversation. */
  messages: ChatMessage[];
  stream: boolean;
  maxTokens: number;
}

export type ParsedMessagesRequest =
  | { ok: true; request: MessagesRequest }
  | { ok: false; status: 400 | 404; model: string | undefined; type: string; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, model?: string): ParsedMessagesRequest => ({
  ok: false,
  status: 400,
  model,
  type: 'invalid_request_error',
  message,
});

/** A string or an array of content blocks (text blocks are read; others count as nothing). */
function isContent(v: unknown): v is ChatMessage['content'] {
  return typeof v === 'string' || (Array.isArray(v) && v.every(isRecord));
}

/** Validates a body the way the Messages API refuses it: 400 for shape, 404 for an unknown model. */
export function parseMessagesRequest(raw: string, models: readonly string[]): ParsedMessagesRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return invalid('There was an issue with your request body: it is not valid JSON.');
  }
  if (!isRecord(body)) return invalid('The request body must be a JSON object.');
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (model === undefined) return invalid('model: Field required');
  const maxTokens = body.max_tokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
    return invalid('max_tokens: Field required (a positive integer)', model);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    return invalid('messages: at least one message is required', model);
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant') || !isContent(m.content))
      return invalid(`messages.${i}: a user or assistant message with content`, model);
  }
  if (body.system !== undefined && !isContent(body.system))
    return invalid('system: a string or text blocks', model);
  if (!models.includes(model)) {
    return { ok: false, status: 404, model, type: 'not_found_error', message: `model: ${model}` };
  }
  const system =
    body.system === undefined ? [] : [{ role: 'system', content: body.system as ChatMessage['content'] }];
  return {
    ok: true,
    request: {
      model,
      messages: [...system, ...(messages as ChatMessage[])],
      stream: body.stream === true,
      maxTokens,
    },
  };
}
