import { z } from 'zod';

export const SCOPES = ['jobs:write', 'jobs:read', 'admin'] as const;
export const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Hosts (names as in the URL, without port) whose robots.txt this tenant's scrapes ignore: its own
 * sites, set by an admin. Per-host politeness still applies. Empty by default.
 */
const RobotsExemptHostsSchema = z
  .array(
    z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name such as docs.example.com')
      .transform((h) => h.toLowerCase()),
  )
  .max(100)
  .describe("Hosts whose robots.txt this tenant's scrapes ignore (its own sites); set by an admin");

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
    robots_exempt_hosts: RobotsExemptHostsSchema.optional(),
  })
  .meta({ id: 'CreateTenant' });

export const UpdateTenantSchema = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    daily_budget_usd: z.number().positive().max(1e9).nullable().optional(),
    robots_exempt_hosts: RobotsExemptHostsSchema.optional(),
  })
  .meta({ id: 'UpdateTenant' });

export const TenantSchema = z
  .object({
    id: z.string(),
    object: z.literal('tenant'),
    name: z.string(),
    daily_budget_usd: z.number().nullable(),
    robots_exempt_hosts: z
      .array(z.string())
      .describe("Hosts whose robots.txt this tenant's scrapes ignore (its own sites); empty by default"),
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
