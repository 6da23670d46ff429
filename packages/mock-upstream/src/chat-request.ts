import type { ChatMessage } from './tokens.ts';

/** The parts of a Chat Completions request the mock acts on; everything else is ignored. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  /** `max_completion_tokens`, else `max_tokens`. */
  maxTokens: number | undefined;
}

export type ParsedChatRequest =
  | { ok: true; request: ChatRequest }
  | {
      ok: false;
      status: 400 | 404;
      model: string | undefined;
      message: string;
      param: string | null;
      code: string | null;
    };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(message: string, param: string | null, model?: string): ParsedChatRequest {
  return { ok: false, status: 400, model, message, param, code: null };
}

/** Validates a request body the way the real API would refuse it: 400 for shape, 404 for model. */
export function parseChatRequest(raw: string, models: readonly string[]): ParsedChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return invalid('We could not parse the JSON body of your request.', null);
  }
  if (!isRecord(body)) return invalid('The request body must be a JSON object.', null);
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (model === undefined) return invalid('you must provide a model parameter', 'model');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return invalid('messages must be a non-empty array', 'messages', model);
  }
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || typeof m.role !== 'string') {
      return invalid(`messages[${i}] must be an object with a role`, `messages[${i}]`, model);
    }
  }
  const cap = body.max_completion_tokens ?? body.max_tokens;
  if (cap !== undefined && cap !== null && (!Number.isInteger(cap) || (cap as number) < 1)) {
    const param = body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
    return invalid(`${param} must be a positive integer`, param, model);
  }
  if (!models.includes(model)) {
    return {
      ok: false,
      status: 404,
      model,
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      param: null,
      code: 'model_not_found',
    };
  }
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    ok: true,
    request: {
      model,
      messages: messages as ChatMessage[],
      stream: body.stream === true,
      includeUsage: body.stream === true && streamOptions.include_usage === true,
      maxTokens: typeof cap === 'number' ? cap : undefined,
    },
  };
}
