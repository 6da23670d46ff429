/** Every Redis key name of tenancy (tenants and their API keys), built from the key prefix. */
export class TenancyKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /**
   * Tenant hash: `name`, `created_at`, `daily_budget_usd`, `webhook_secret` (`WEBHOOK_SECRET_FIELD`
   * of @switchyard/webhooks, whose `WebhookKeys.tenant` names this hash for the worker).
   */
  tenant(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}`;
  }

  /** Set of every tenant id. */
  get tenants(): string {
    return `${this.prefix}:tenants`;
  }

  /** Hash of one API key (by the key's hash): tenant, key id, scopes. */
  apiKey(keyHash: string): string {
    return `${this.prefix}:apikey:${keyHash}`;
  }

  /** Hash of a tenant's API keys: key id -> key hash. */
  tenantKeys(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}:keys`;
  }
}
