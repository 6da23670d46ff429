import type { CompletionRequest } from '@switchyard/contracts';
import { z } from 'zod';

/** A text block; `cache_control` and `citations` are accepted and not forwarded. */
const TextBlock = z.object({ type: z.literal('text'), text: z.string().max(1_000_000) });
const Content = z.union([z.string().max(1_000_000), z.array(TextBlock).min(1).max(256)]);

/**
 * The body of `POST /v1/messages`, Anthropic-compatible. Text content only: image, document and
 * tool blocks, `tools` and `thinking` are refused (`validation_failed`) rather than dropped, so no
 * answer silently ignores part of its request. Other fields SDKs send are dropped.
 */
export const MessagesBodySchema = z
  .object({
    model: z.string().min(1).max(256),
    max_tokens: z.number().int().positive().max(1_000_000),
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: Content }))
      .min(1)
      .max(2048),
    system: Content.optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().positive().optional(),
    stop_sequences: z.array(z.string().max(256)).max(4).optional(),
    metadata: z.object({ user_id: z.string().max(256).nullable().optional() }).optional(),
    stream: z.boolean().optional(),
    tools: z.array(z.unknown()).max(0, 'tools are not supported').optional(),
    tool_choice: z.undefined('tool_choice is not supported').optional(),
    thinking: z.undefined('thinking is not supported').optional(),
  })
  .meta({ id: 'MessagesRequest' });
export type MessagesBody = z.infer<typeof MessagesBodySchema>;

const textParts = (content: z.infer<typeof Content>) =>
  typeof content === 'string' ? content : content.map((b) => ({ type: 'text' as const, text: b.text }));

/**
 * Messages request → the job's OpenAI-shaped request (docs/providers.md has the table): `system`
 * becomes the first message, `stop_sequences` `stop`, `metadata.user_id` `user`; `top_k` has no
 * OpenAI counterpart and is dropped.
 */
export function toCompletionRequest(body: MessagesBody): CompletionRequest {
  const system =
    body.system === undefined ? [] : [{ role: 'system' as const, content: textParts(body.system) }];
  const request: CompletionRequest = {
    model: body.model,
    max_tokens: body.max_tokens,
    messages: [...system, ...body.messages.map((m) => ({ role: m.role, content: textParts(m.content) }))],
  };
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.top_p !== undefined) request.top_p = body.top_p;
  if (body.stop_sequences?.length) request.stop = body.stop_sequences;
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  return request;
}
