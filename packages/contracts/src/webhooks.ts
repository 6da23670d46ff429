import { z } from 'zod';
import { JobRecordSchema } from './jobs.ts';

export const WEBHOOK_EVENT_TYPES = ['job.finished', 'batch.completed'] as const;
export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

/** Prefix of a tenant's webhook signing secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export const WebhookSecretCreatedSchema = z
  .object({
    object: z.literal('webhook_secret'),
    tenant_id: z.string(),
    secret: z.string().describe('`whsec_…`: shown only in this response; it replaces any earlier secret'),
    created_at: z.string(),
  })
  .meta({ id: 'WebhookSecretCreated' });
export type WebhookSecretCreated = z.infer<typeof WebhookSecretCreatedSchema>;

const eventBase = {
  id: z.string().describe('Event id, also in `Switchyard-Event-Id`; the same on every retry'),
  created_at: z.string().describe('ISO 8601; when the event happened, not when this attempt was sent'),
};

export const JobFinishedEventSchema = z
  .object({
    ...eventBase,
    type: z.literal('job.finished'),
    data: JobRecordSchema.omit({ attempt_log: true }),
  })
  .meta({ id: 'JobFinishedEvent' });

export const BatchCompletedEventSchema = z
  .object({
    ...eventBase,
    type: z.literal('batch.completed'),
    data: z.record(z.string(), z.unknown()).describe('The batch as `GET /v1/batches/{id}` answers it'),
  })
  .meta({ id: 'BatchCompletedEvent' });
