import { CompletionCacheSchema, CompletionRequestSchema } from '@switchyard/contracts';
import { z } from 'zod';

/**
 * The body of `POST /v1/chat/completions`. The known fields are validated exactly as for jobs;
 * other fields OpenAI SDKs may send (`n: 1`, `logprobs`, `store`, ...) are dropped, so any SDK
 * works unchanged. `stream` and `stream_options` belong to this route, not to the job; `cache` (the
 * response cache, Switchyard's own) belongs to the job, not to the request sent upstream.
 */
export const ChatCompletionsBodySchema = z
  .object({
    ...CompletionRequestSchema.shape,
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
    n: z.literal(1).optional(),
    cache: CompletionCacheSchema.optional(),
  })
  .meta({ id: 'ChatCompletionsRequest' });
export type ChatCompletionsBody = z.infer<typeof ChatCompletionsBodySchema>;

/** The job request: the body without the route's own fields. */
export function toCompletionRequest(body: ChatCompletionsBody) {
  const { stream: _s, stream_options: _o, n: _n, cache: _c, ...request } = body;
  return request;
}
