import { z } from 'zod';
import { CompletionRequestSchema, UsageSchema } from './completion.ts';
import { CostSchema } from './cost.ts';
import { LaneSchema } from './lanes.ts';
import { ScrapeRequestSchema, ScrapeResultSchema } from './scrape.ts';

export const PRIORITY_MIN = 1;
export const PRIORITY_MAX = 10;
export const DEFAULT_PRIORITY = 5;
export const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

const MetadataSchema = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: 'at most 16 metadata keys' })
  .describe('Free-form string labels echoed back on the job (at most 16 keys)');

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** An http(s) URL a receiver listens on; credentials do not belong in it (events are signed). */
export const WebhookUrlSchema = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH)
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
  // Checks run even when the URL check above failed, so an unparseable value must not throw here.
  .refine((u) => {
    const parsed = URL.canParse(u) ? new URL(u) : undefined;
    return !parsed?.username && !parsed?.password;
  }, 'must not carry credentials (user:pass@); verify the Switchyard-Signature header instead')
  .describe('An http(s) URL, at most 2048 characters, without user:pass@');

export const WebhookSchema = z.strictObject({ url: WebhookUrlSchema }).meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof WebhookSchema>;

const common = {
  lane: LaneSchema.default('batch').describe('`interactive` for latency-sensitive work, `batch` for bulk'),
  priority: z
    .number()
    .int()
    .min(PRIORITY_MIN)
    .max(PRIORITY_MAX)
    .default(DEFAULT_PRIORITY)
    .describe('1 runs first, 10 last, within the lane'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(MAX_TIMEOUT_MS)
    .optional()
    .describe('Deadline for the whole job, counted from submission; defaults to the broker setting'),
  metadata: MetadataSchema.optional(),
  webhook: WebhookSchema.optional().describe(
    'POSTed a signed `job.finished` event when the job ends (docs/webhooks.md); the tenant needs a webhook secret',
  ),
};

/** Seconds a cached answer may be reused: at most 30 days. */
export const MAX_CACHE_TTL_S = 30 * 86_400;

export const CompletionCacheSchema = z
  .strictObject({
    ttl_s: z
      .number()
      .int()
      .min(0)
      .max(MAX_CACHE_TTL_S)
      .describe(
        "Answer from a stored answer to the same request at most this old, and store this one for as long; 0 turns a model's configured cache off for this request",
      ),
    nondeterministic: z
      .boolean()
      .optional()
      .describe(
        'Cache even though the request samples (temperature missing or above 0): every hit replays the one stored answer',
      ),
  })
  .meta({ id: 'CompletionCache' });
export type CompletionCache = z.infer<typeof CompletionCacheSchema>;

export const CompletionJobSpecSchema = z
  .strictObject({
    type: z.literal('completion'),
    request: CompletionRequestSchema,
    fallbacks: z
      .array(z.string().min(1).max(256))
      .max(8)
      .optional()
      .describe('Models to try in order when the first one gives up'),
    cache: CompletionCacheSchema.optional().describe(
      "The exact-match response cache (opt-in; the model's `cache` config is the default): only requests with `temperature: 0` are cached unless `nondeterministic`",
    ),
    ...common,
  })
  .meta({ id: 'CompletionJobSpec' });

export const ProxyConstraintsSchema = z
  .strictObject({
    tags: z
      .array(z.string().min(1).max(64))
      .max(16)
      .optional()
      .describe('Lease only a proxy that has every one of these tags'),
    country: z
      .string()
      .length(2)
      .optional()
      .describe('Lease only a proxy in this country (ISO 3166-1 alpha-2)'),
    session: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Sticky session: jobs with the same session leave by the same proxy while it is healthy'),
  })
  .meta({ id: 'ProxyConstraints' });

export const ScrapeJobSpecSchema = z
  .strictObject({
    type: z.literal('scrape').describe('A web page fetch'),
    request: ScrapeRequestSchema.describe('What to fetch and what to return'),
    proxy: ProxyConstraintsSchema.optional().describe('Which egress proxies the scrape may leave by'),
    ...common,
  })
  .meta({ id: 'ScrapeJobSpec' });

export const JobSpecSchema = z
  .discriminatedUnion('type', [CompletionJobSpecSchema, ScrapeJobSpecSchema])
  .meta({ id: 'JobSpec' });

export type CompletionJobSpec = z.infer<typeof CompletionJobSpecSchema>;
export type ScrapeJobSpec = z.infer<typeof ScrapeJobSpecSchema>;
export type JobSpec = z.infer<typeof JobSpecSchema>;
export type JobSpecInput = z.input<typeof JobSpecSchema>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const CompletionResultSchema = z
  .object({
    type: z.literal('completion'),
    model: z.string().describe('The public model name that answered'),
    upstream_model: z.string(),
    message: z.object({ role: z.literal('assistant'), content: z.string().nullable() }),
    finish_reason: z.string().nullable(),
    usage: UsageSchema.describe(
      "The answer's usage as the upstream reported it (for a cache hit: when it was stored)",
    ),
    cached: z
      .boolean()
      .optional()
      .describe('Answered from the response cache: no upstream call, $0 (true only then)'),
  })
  .meta({ id: 'CompletionResult' });
export type CompletionResult = z.infer<typeof CompletionResultSchema>;

export const JobResultSchema = z.discriminatedUnion('type', [CompletionResultSchema, ScrapeResultSchema]);
export type JobResult = z.infer<typeof JobResultSchema>;

export const JobErrorSchema = z.object({ code: z.string(), message: z.string() }).meta({ id: 'JobError' });
export type JobError = z.infer<typeof JobErrorSchema>;

export const AttemptLogEntrySchema = z
  .object({
    attempt: z.number().int().positive(),
    model: z.string().nullable(),
    proxy_id: z.string().nullable(),
    outcome: z.string(),
    interrupted: z.boolean().describe('The worker died mid-attempt; the job was re-run elsewhere'),
    latency_ms: z.number().int().nonnegative(),
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cached_input_tokens: z.number().int().nonnegative().optional().describe('Part of input_tokens'),
    cache_write_tokens: z.number().int().nonnegative().optional().describe('Part of input_tokens'),
    reasoning_tokens: z.number().int().nonnegative().optional().describe('Part of output_tokens'),
    estimated: z
      .boolean()
      .optional()
      .describe('The stream was cut before its usage: tokens are estimated with a tokenizer'),
    bytes: z.number().int().nonnegative(),
    cost: CostSchema,
    started_at: z.string(),
  })
  .meta({ id: 'AttemptLogEntry' });
export type AttemptLogEntry = z.infer<typeof AttemptLogEntrySchema>;

export const JobRecordSchema = z
  .object({
    id: z.string(),
    object: z.literal('job'),
    type: z.enum(['completion', 'scrape']),
    lane: LaneSchema,
    priority: z.number().int(),
    status: JobStatusSchema,
    created_at: z.string().describe('ISO 8601'),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    deadline_at: z.string(),
    attempts: z.number().int().nonnegative().describe('Upstream attempts made so far'),
    result: JobResultSchema.nullable(),
    error: JobErrorSchema.nullable(),
    cost: CostSchema.describe('Every attempt of the job, failed ones included'),
    metadata: z.record(z.string(), z.string()),
    webhook: WebhookSchema.nullable().describe('Where the `job.finished` event goes, as submitted'),
    attempt_log: z
      .array(AttemptLogEntrySchema)
      .optional()
      .describe('One entry per upstream attempt (on GET /v1/jobs/{id})'),
  })
  .meta({ id: 'Job' });
export type JobRecord = z.infer<typeof JobRecordSchema>;

/**
 * A job in its final state: succeeded, failed, or canceled and stopped. A canceled job has no
 * `finished_at` while the worker that holds it is still stopping it: it is not final yet.
 */
export function isFinal(job: Pick<JobRecord, 'status' | 'finished_at'>): boolean {
  return (
    job.status === 'succeeded' || job.status === 'failed' || (job.status === 'canceled' && !!job.finished_at)
  );
}
