/** Redis key names of tenancy: tenants, their API keys and their request rate. */
export interface TenancyKeys {
  /**
   * Hash: the tenant. `name`, `created_at`, `daily_budget_usd`, `webhook_secret`
   * (`WEBHOOK_SECRET_FIELD` of @switchyard/webhooks, whose `webhookKeys(prefix).tenant` names this
   * hash for the worker).
   */
  tenant(tenantId: string): string;
  /** Set of every tenant id. */
  readonly tenants: string;
  /** Hash of one API key (by the key's hash): tenant, key id, scopes. */
  apiKey(keyHash: string): string;
  /** Hash of a tenant's API keys: key id -> key hash. */
  tenantKeys(tenantId: string): string;
  /** Hash: the token bucket of a tenant's request rate (lua/rate-limit-1.lua); the tenant id is the hash tag. */
  rateLimit(tenantId: string): string;
}

/** Every key name of tenancy, built from the deployment's key prefix (no spaces or braces). */
export function tenancyKeys(prefix: string): TenancyKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    tenant: (tenantId) => `${prefix}:tenant:${tenantId}`,
    tenants: `${prefix}:tenants`,
    apiKey: (keyHash) => `${prefix}:apikey:${keyHash}`,
    tenantKeys: (tenantId) => `${prefix}:tenant:${tenantId}:keys`,
    rateLimit: (tenantId) => `${prefix}:rate:{${tenantId}}`,
  };
}
