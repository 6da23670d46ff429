import {
  SwitchyardError,
  WEBHOOK_SECRET_PREFIX,
  type ApiKeyCreated,
  type Scope,
  type Tenant,
  type WebhookSecretCreated,
} from '@switchyard/contracts';
import { ROBOTS_EXEMPT_HOSTS_FIELD } from '@switchyard/scrape';
import { WEBHOOK_SECRET_FIELD } from '@switchyard/webhooks';
import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { generateApiKey, hashApiKey, newKeyId } from './api-keys.ts';
import { tenancyKeys, type TenancyKeys } from './keys.ts';

export interface KeyPrincipal {
  tenantId: string;
  keyId: string;
  scopes: Scope[];
}

/** The hosts stored in the tenant hash (a JSON array), or none. */
function exemptHosts(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const hosts = JSON.parse(raw) as unknown;
    return Array.isArray(hosts) ? hosts.filter((h): h is string => typeof h === 'string') : [];
  } catch {
    return [];
  }
}

function toTenant(id: string, h: Record<string, string>): Tenant | undefined {
  if (!h.name) return undefined;
  return {
    id,
    object: 'tenant',
    name: h.name,
    daily_budget_usd: h.daily_budget_usd ? Number(h.daily_budget_usd) : null,
    robots_exempt_hosts: exemptHosts(h[ROBOTS_EXEMPT_HOSTS_FIELD]),
    webhook_secret_set: Boolean(h[WEBHOOK_SECRET_FIELD]),
    created_at: h.created_at ?? '',
  };
}

/** Tenants and their API keys in Redis. Keys are stored only as hashes. */
export class TenantStore {
  private readonly redis: Redis | Cluster;
  private readonly keys: TenancyKeys;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.keys = tenancyKeys(opts.prefix);
  }

  async createTenant(input: {
    id?: string;
    name: string;
    daily_budget_usd?: number | null;
    robots_exempt_hosts?: string[];
  }): Promise<Tenant> {
    const id = input.id ?? `t_${randomBytes(6).toString('hex')}`;
    const createdAt = new Date().toISOString();
    const created = await this.redis.hsetnx(this.keys.tenant(id), 'name', input.name);
    if (created === 0) throw new SwitchyardError('already_exists', `tenant ${id} already exists`);
    const fields: Record<string, string> = { created_at: createdAt };
    if (input.daily_budget_usd) fields.daily_budget_usd = String(input.daily_budget_usd);
    if (input.robots_exempt_hosts?.length)
      fields[ROBOTS_EXEMPT_HOSTS_FIELD] = JSON.stringify(input.robots_exempt_hosts);
    // The hash, then the index: they live in different cluster slots, so no MULTI; a crash between
    // the two leaves a tenant that is readable and not yet listed, never a listed one without data.
    await this.redis.hset(this.keys.tenant(id), fields);
    await this.redis.sadd(this.keys.tenants, id);
    return {
      id,
      object: 'tenant',
      name: input.name,
      daily_budget_usd: input.daily_budget_usd ?? null,
      robots_exempt_hosts: input.robots_exempt_hosts ?? [],
      webhook_secret_set: false,
      created_at: createdAt,
    };
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    return toTenant(id, await this.redis.hgetall(this.keys.tenant(id)));
  }

  /**
   * Tenants by id, at most `limit` of them: one SMEMBERS, then the hashes read at once (not one
   * pipeline: on a cluster they live on different nodes). The ops page's list.
   */
  async list(limit = 500): Promise<Tenant[]> {
    const ids = (await this.redis.smembers(this.keys.tenants)).sort().slice(0, limit);
    const hashes = await Promise.all(
      ids.map((id) => this.redis.hgetall(this.keys.tenant(id)).catch(() => undefined)),
    );
    return ids.flatMap((id, i) => {
      const h = hashes[i];
      const tenant = h ? toTenant(id, h) : undefined;
      return tenant ? [tenant] : [];
    });
  }

  async updateTenant(
    id: string,
    patch: { name?: string; daily_budget_usd?: number | null; robots_exempt_hosts?: string[] },
  ): Promise<Tenant | undefined> {
    if (!(await this.getTenant(id))) return undefined;
    const tx = this.redis.multi();
    if (patch.name !== undefined) tx.hset(this.keys.tenant(id), 'name', patch.name);
    if (patch.daily_budget_usd === null) tx.hdel(this.keys.tenant(id), 'daily_budget_usd');
    else if (patch.daily_budget_usd !== undefined)
      tx.hset(this.keys.tenant(id), 'daily_budget_usd', String(patch.daily_budget_usd));
    if (patch.robots_exempt_hosts?.length === 0) tx.hdel(this.keys.tenant(id), ROBOTS_EXEMPT_HOSTS_FIELD);
    else if (patch.robots_exempt_hosts)
      tx.hset(this.keys.tenant(id), ROBOTS_EXEMPT_HOSTS_FIELD, JSON.stringify(patch.robots_exempt_hosts));
    await tx.exec();
    return this.getTenant(id);
  }

  /**
   * Up to `max` tenant ids (SSCAN, so a large tenant set is read in steps, never in one reply);
   * which ones, past `max`, is Redis's set order.
   */
  async tenantIds(max: number): Promise<string[]> {
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.sscan(this.keys.tenants, cursor, 'COUNT', 200);
      for (const id of batch) if (ids.size < max) ids.add(id);
      cursor = next;
    } while (cursor !== '0' && ids.size < max);
    return [...ids];
  }

  /** The tenant's daily budget in nano-USD, or undefined when it has none. */
  async dailyBudgetNanos(id: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.keys.tenant(id), 'daily_budget_usd');
    return v ? Math.round(Number(v) * 1e9) : undefined;
  }

  /**
   * Creates the tenant's webhook signing secret, or replaces it (rotation takes effect on the next
   * delivery attempt, pending retries included). Stored in the clear: signing needs the secret
   * itself, so it is as sensitive as the Redis it lives in. Undefined when there is no such tenant.
   */
  async rotateWebhookSecret(tenantId: string): Promise<WebhookSecretCreated | undefined> {
    if (!(await this.getTenant(tenantId))) return undefined;
    const secret = `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.redis.hset(this.keys.tenant(tenantId), WEBHOOK_SECRET_FIELD, secret);
    return { object: 'webhook_secret', tenant_id: tenantId, secret, created_at: new Date().toISOString() };
  }

  async hasWebhookSecret(tenantId: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.tenant(tenantId), WEBHOOK_SECRET_FIELD)) === 1;
  }

  async createKey(tenantId: string, input: { name?: string; scopes: Scope[] }): Promise<ApiKeyCreated> {
    if (!(await this.getTenant(tenantId))) throw new SwitchyardError('not_found', `no tenant ${tenantId}`);
    const key = generateApiKey();
    const keyId = newKeyId();
    const createdAt = new Date().toISOString();
    const hash = hashApiKey(key);
    // Listed under the tenant first, then made usable: the two keys are in different cluster
    // slots (no MULTI), and a crash between leaves a revocable key that never authenticates.
    await this.redis.hset(this.keys.tenantKeys(tenantId), keyId, hash);
    await this.redis.hset(this.keys.apiKey(hash), {
      tenant_id: tenantId,
      key_id: keyId,
      scopes: input.scopes.join(' '),
      name: input.name ?? '',
      created_at: createdAt,
    });
    return {
      id: keyId,
      object: 'api_key',
      tenant_id: tenantId,
      name: input.name ?? null,
      scopes: input.scopes,
      key,
      created_at: createdAt,
    };
  }

  /** Revocation deletes the hash record, so every API process refuses the key on its next request. */
  async revokeKey(tenantId: string, keyId: string): Promise<boolean> {
    const hash = await this.redis.hget(this.keys.tenantKeys(tenantId), keyId);
    if (!hash) return false;
    // Unusable first, then unlisted (different cluster slots, so in this order rather than MULTI).
    await this.redis.del(this.keys.apiKey(hash));
    await this.redis.hdel(this.keys.tenantKeys(tenantId), keyId);
    return true;
  }

  async authenticate(key: string): Promise<KeyPrincipal | undefined> {
    const h = await this.redis.hgetall(this.keys.apiKey(hashApiKey(key)));
    if (!h.tenant_id || !h.key_id) return undefined;
    return {
      tenantId: h.tenant_id,
      keyId: h.key_id,
      scopes: (h.scopes ?? '').split(' ').filter(Boolean) as Scope[],
    };
  }
}
