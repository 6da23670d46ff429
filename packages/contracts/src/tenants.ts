import { z } from 'zod';

export const SCOPES = ['jobs:write', 'jobs:read', 'admin'] as const;
export const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const CreateTenantSchema = z
  .strictObject({
    id: z
      .string()
      .regex(TENANT_ID_PATTERN, 'lowercase letters, digits, - and _, at most 63 characters')
      .optional()
      .describe('Chosen id; generated when absent'),
    name: z.string().min(1).max(200),
    daily_budget_usd: z
      .number()
      .positive()
      .max(1e9)
      .nullable()
      .optional()
      .describe('USD per UTC day; null = none'),
  })
  .meta({ id: 'CreateTenant' });

export const UpdateTenantSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    daily_budget_usd: z.number().positive().max(1e9).nullable().optional(),
  })
  .meta({ id: 'UpdateTenant' });

export const TenantSchema = z
  .object({
    id: z.string(),
    object: z.literal('tenant'),
    name: z.string(),
    daily_budget_usd: z.number().nullable(),
    webhook_secret_set: z
      .boolean()
      .describe('A webhook signing secret exists (it is never shown again after it is created)'),
    created_at: z.string(),
  })
  .meta({ id: 'Tenant' });
export type Tenant = z.infer<typeof TenantSchema>;

export const CreateKeySchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    scopes: z.array(ScopeSchema).min(1).max(3).default(['jobs:write', 'jobs:read']),
  })
  .meta({ id: 'CreateKey' });

export const ApiKeyCreatedSchema = z
  .object({
    id: z.string(),
    object: z.literal('api_key'),
    tenant_id: z.string(),
    name: z.string().nullable(),
    scopes: z.array(ScopeSchema),
    key: z.string().describe('The secret; shown only in this response'),
    created_at: z.string(),
  })
  .meta({ id: 'ApiKeyCreated' });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreatedSchema>;
