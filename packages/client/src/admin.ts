import type { ApiKeyCreated, Scope, Tenant, UsageGroupBy, UsageReport } from '@switchyard/contracts';
import type { Transport } from './http.ts';

const json = (value: unknown) => () => ({ body: JSON.stringify(value), contentType: 'application/json' });

export interface UsageQuery {
  /** Default `model`. */
  groupBy?: UsageGroupBy;
  /** First UTC day, `YYYY-MM-DD` (default: six days before `to`). */
  from?: string;
  /** Last UTC day, `YYYY-MM-DD` (default: today). */
  to?: string;
}

/** `GET /v1/usage`: the caller's costs by model, day or outcome, with the share spent on retries. */
export function usage(http: Transport, q: UsageQuery = {}): Promise<UsageReport> {
  return http.json('GET', '/v1/usage', {
    query: { group_by: q.groupBy, from: q.from, to: q.to },
    retryable: true,
  });
}

/** The admin calls (a key with the `admin` scope, or the deployment's admin key). */
export class Admin {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Creates a tenant; `id` is generated when absent. Not retried: a repeat would be a conflict. */
  createTenant(body: { name: string; id?: string; daily_budget_usd?: number | null }): Promise<Tenant> {
    return this.#http.json('POST', '/v1/admin/tenants', { body: json(body), retryable: false });
  }

  /** One tenant, with whether its webhook secret is set. */
  getTenant(id: string): Promise<Tenant> {
    return this.#http.json('GET', `/v1/admin/tenants/${encodeURIComponent(id)}`, { retryable: true });
  }

  /** Changes a tenant's name or daily budget (`null` removes the budget). */
  updateTenant(id: string, body: { name?: string; daily_budget_usd?: number | null }): Promise<Tenant> {
    return this.#http.json('PATCH', `/v1/admin/tenants/${encodeURIComponent(id)}`, {
      body: json(body),
      retryable: true,
    });
  }

  /** Creates an API key for a tenant; its secret (`key`) is shown only in this answer. */
  createKey(tenantId: string, body: { name?: string; scopes?: Scope[] } = {}): Promise<ApiKeyCreated> {
    return this.#http.json('POST', `/v1/admin/tenants/${encodeURIComponent(tenantId)}/keys`, {
      body: json(body),
      retryable: false,
    });
  }

  /** Revokes one of a tenant's keys. */
  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    const path = `/v1/admin/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(keyId)}`;
    await this.#http.send('DELETE', path, { retryable: true });
  }

  /** The egress proxy pool as a text table (what `switchyard pool` prints). */
  async proxyTable(): Promise<string> {
    const res = await this.#http.send('GET', '/v1/admin/proxies', {
      query: { format: 'table' },
      retryable: true,
    });
    return res.text();
  }
}
