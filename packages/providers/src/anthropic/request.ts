import { SwitchyardError, type ChatMessage, type CompletionRequest } from '@switchyard/contracts';
import { DEFAULT_MAX_TOKENS } from './api.ts';

type TextBlock = { type: 'text'; text: string };

/** The Messages API request an OpenAI-shaped request maps to (docs/providers.md has the table). */
export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: { role: 'user' | 'assistant'; content: string | TextBlock[] }[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  stream?: boolean;
}

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : (content ?? []).map((p) => p.text).join('\n');

const unsupported = (what: string) =>
  new SwitchyardError('validation_failed', `${what} cannot be sent to an anthropic model`);

/**
 * OpenAI chat request → Messages request. System and developer messages become `system`; text
 * parts become text blocks; `max_completion_tokens` (else `max_tokens`, else 4096) becomes
 * `max_tokens`; `stop` becomes `stop_sequences`; `temperature` is capped at Anthropic's 1.
 * Tools and tool messages are refused; `seed`, penalties and `response_format` are dropped.
 */
export function toAnthropicRequest(
  req: CompletionRequest,
  upstreamModel: string,
  stream: boolean,
): AnthropicRequest {
  if (req.tools?.length || req.tool_choice !== undefined) throw unsupported('tools');
  const system: string[] = [];
  const messages: AnthropicRequest['messages'] = [];
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'tool' || m.tool_calls) throw unsupported('tool calls');
    else
      messages.push({
        role: m.role,
        content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => ({ ...p })),
      });
  }
  const out: AnthropicRequest = {
    model: upstreamModel,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) out.system = system.join('\n\n');
  if (req.temperature !== undefined) out.temperature = Math.min(req.temperature, 1);
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop !== undefined) out.stop_sequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.user !== undefined) out.metadata = { user_id: req.user };
  if (stream) out.stream = true;
  return out;
}
