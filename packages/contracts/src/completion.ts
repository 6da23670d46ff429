import { z } from 'zod';

const TextPart = z.strictObject({ type: z.literal('text'), text: z.string().max(1_000_000) });

export const ChatMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string().max(1_000_000), z.array(TextPart).max(256)]).nullable(),
    name: z.string().max(128).optional(),
    tool_call_id: z.string().max(256).optional(),
    tool_calls: z.array(z.record(z.string(), z.unknown())).max(128).optional(),
  })
  .strict()
  .meta({ id: 'ChatMessage' });
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/**
 * OpenAI's `response_format`. With `json_object` or `json_schema` every answer is checked (the
 * JSON guardrail): an answer that is not JSON, or not valid against `json_schema.schema`, makes
 * its attempt `invalid_output`. Fields beyond these are kept and sent upstream as given.
 */
export const ResponseFormatSchema = z
  .discriminatedUnion('type', [
    z.looseObject({ type: z.literal('text') }),
    z.looseObject({ type: z.literal('json_object') }),
    z.looseObject({
      type: z.literal('json_schema'),
      json_schema: z.looseObject({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
        description: z.string().max(4096).optional(),
        schema: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      }),
    }),
  ])
  .meta({ id: 'ResponseFormat' });
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;

/**
 * An OpenAI-style chat completion request. Known sampling fields are typed; `stream` is decided
 * by the route, not the body, so it is not part of a job.
 */
export const CompletionRequestSchema = z
  .object({
    model: z.string().min(1).max(256),
    messages: z.array(ChatMessageSchema).min(1).max(2048),
    max_tokens: z.number().int().positive().max(1_000_000).optional(),
    max_completion_tokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    stop: z.union([z.string().max(256), z.array(z.string().max(256)).max(4)]).optional(),
    seed: z.number().int().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    response_format: ResponseFormatSchema.optional(),
    tools: z.array(z.record(z.string(), z.unknown())).max(128).optional(),
    tool_choice: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    user: z.string().max(256).optional(),
  })
  .strict()
  .meta({ id: 'CompletionRequest' });
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

const tokens = z.number().int().nonnegative();

/**
 * Tokens of one answer by class. `input_tokens` counts every input token (OpenAI's
 * `prompt_tokens`); the cached and cache-write counts are parts of it. `output_tokens` counts every
 * output token; `reasoning_tokens` is the part the model spent thinking. Absent classes are 0.
 */
export const UsageSchema = z
  .object({
    input_tokens: tokens,
    output_tokens: tokens,
    cached_input_tokens: tokens.optional(),
    cache_write_tokens: tokens.optional(),
    reasoning_tokens: tokens.optional(),
  })
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof UsageSchema>;
